import type { Express } from 'express';
import request from 'supertest';

export type Agent = ReturnType<typeof request.agent>;

export function newAgent(app: Express): Agent {
  return request.agent(app);
}

/** The hidden `_csrf` value of the page at `path`, as a browser would find it. */
export async function csrfFrom(agent: Agent, path: string): Promise<string> {
  const res = await agent.get(path);
  const match = /name="_csrf" value="([^"]+)"/.exec(res.text);
  if (!match) throw new Error(`no CSRF token on ${path} (status ${res.status})`);
  return match[1];
}

/** Posts a form the way a browser does: urlencoded, with the page's CSRF token. */
export async function postForm(
  agent: Agent,
  path: string,
  fields: Record<string, string | string[]>,
  opts: { from?: string } = {},
) {
  const token = await csrfFrom(agent, opts.from ?? path);
  return agent
    .post(path)
    .type('form')
    .send({ ...fields, _csrf: token });
}

export async function loginAs(
  agent: Agent,
  user: { email: string; password: string },
  returnTo?: string,
) {
  const res = await postForm(
    agent,
    '/login',
    { email: user.email, password: user.password, ...(returnTo ? { returnTo } : {}) },
    { from: returnTo ? `/login?returnTo=${encodeURIComponent(returnTo)}` : '/login' },
  );
  if (res.status !== 302) throw new Error(`login failed for ${user.email}: ${res.status}`);
  return res;
}

/** The session cookie value an agent currently holds. */
export function sessionCookie(res: { headers: Record<string, unknown> }): string | undefined {
  const set = res.headers['set-cookie'] as string[] | undefined;
  return set?.find((c) => c.startsWith('guichet.sid='))?.split(';')[0];
}

export interface UploadFile {
  name: string;
  content: Buffer | string;
  type?: string;
}

/**
 * Posts a multipart form as a browser does for forms with files: the CSRF token travels in
 * the query string (the body is read only after the CSRF check) and in the body.
 */
export async function postMultipart(
  agent: Agent,
  path: string,
  fields: Record<string, string>,
  files: UploadFile[] = [],
  opts: { from?: string } = {},
) {
  const token = await csrfFrom(agent, opts.from ?? path);
  const req = agent.post(`${path}?_csrf=${encodeURIComponent(token)}`);
  for (const [k, v] of Object.entries({ ...fields, _csrf: token })) req.field(k, v);
  for (const f of files) {
    req.attach('attachments', Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content), {
      filename: f.name,
      contentType: f.type ?? 'application/octet-stream',
    });
  }
  return req;
}

/** The version hidden in the ticket page's forms. */
export async function versionOf(agent: Agent, ticketId: number): Promise<string> {
  const res = await agent.get(`/tickets/${ticketId}`);
  const match = /name="version" value="(\d+)"/.exec(res.text);
  if (!match) throw new Error(`no version on /tickets/${ticketId} (status ${res.status})`);
  return match[1];
}
