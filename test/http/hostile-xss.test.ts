import { createTestContext, type TestContext } from '../support/app';
import {
  loginAs,
  newAgent,
  postForm,
  postMultipart,
  versionOf,
  type Agent,
} from '../support/agent';
import { createUser, type TestUser } from '../support/factories';
import { activeMarkup, escapeHtml, leaks, XSS_PAYLOADS } from '../support/hostile';
import { listRoutes } from '../support/routes';
import { postRawMultipart } from '../support/uploads';

/**
 * Every text field a user controls (ticket title and description, reply, internal note, people's
 * names, category names, file names) filled with hostile markup and template syntax, then read
 * back on every page and in every email that shows it: always escaped, never active.
 */
let ctx: TestContext;
let admin: Agent;

interface World {
  payload: string;
  ticketId: number;
  employee: TestUser;
  emp: Agent;
  tech: Agent;
  categoryId: number;
  userId: number;
}
const worlds: World[] = [];

const idFrom = (location: string) => Number(/\/(\d+)(?:#.*)?$/.exec(location)![1]);

/** What no page may contain for this payload: it raw, or anything that would run. */
function problems(html: string, payload: string): string[] {
  const found = activeMarkup(html);
  if (/[<>"']/.test(payload) && html.includes(payload)) found.push('payload unescaped');
  found.push(...leaks(html));
  return found;
}

beforeAll(async () => {
  ctx = await createTestContext();
  const adminUser = await createUser(ctx.db, { role: 'admin', name: 'Admin' });
  admin = newAgent(ctx.app);
  await loginAs(admin, adminUser);

  for (const [i, payload] of XSS_PAYLOADS.entries()) {
    // A category and an employee named with the payload, through the admin forms.
    const cat = await postForm(
      admin,
      '/admin/categories',
      { name: payload, default_assignee_id: '' },
      { from: '/admin/categories/new' },
    );
    if (cat.status !== 302) throw new Error(`category ${i}: ${cat.status}`);
    const categoryId = (await ctx.db('categories').where({ name: payload }).first()).id;
    const email = `xss-${i}@example.com`;
    const created = await postForm(
      admin,
      '/admin/users',
      { name: payload, email, role: 'employee', locale: 'fr', password: 'hostile-pass-123' },
      { from: '/admin/users/new' },
    );
    if (created.status !== 302) throw new Error(`user ${i}: ${created.status}`);
    const row = await ctx.db('users').where({ email }).first();
    const employee: TestUser = { ...row, password: 'hostile-pass-123' };
    const emp = newAgent(ctx.app);
    await loginAs(emp, employee);
    // A technician with the payload as name answers and writes a note.
    const techUser = await createUser(ctx.db, { role: 'technician', name: payload, locale: 'en' });
    const tech = newAgent(ctx.app);
    await loginAs(tech, techUser);

    // The ticket: title, description (with a searchable word) and a file named with the payload.
    const res = await postRawMultipart(
      emp,
      '/tickets',
      {
        title: payload,
        description: `zèbre${i} ${payload}\n${payload}`,
        priority: 'normal',
        category_id: String(categoryId),
      },
      [{ rawName: `${payload}.txt`, content: 'contenu\n', type: 'text/plain' }],
      { from: '/tickets/new' },
    );
    if (res.status !== 302) throw new Error(`ticket ${i}: ${res.status}`);
    const ticketId = idFrom(res.headers.location);
    const take = await postForm(
      tech,
      `/tickets/${ticketId}/take`,
      { version: await versionOf(tech, ticketId) },
      { from: `/tickets/${ticketId}` },
    );
    if (take.status !== 302) throw new Error(`take ${i}: ${take.status}`);
    for (const internal of ['', '1']) {
      const reply = await postMultipart(
        tech,
        `/tickets/${ticketId}/replies`,
        { version: await versionOf(tech, ticketId), body: `${payload} ${internal}`, internal },
        [],
        { from: `/tickets/${ticketId}` },
      );
      if (reply.status !== 302) throw new Error(`reply ${i}: ${reply.status}`);
    }
    worlds.push({ payload, ticketId, employee, emp, tech, categoryId, userId: row.id });
  }
  // A dozen worlds built through the forms: slow on a busy CI machine.
}, 120_000);
afterAll(() => ctx.close());

const byPayload = XSS_PAYLOADS.map((p, i) => [p, i] as const);

describe('stored payloads on the pages that show them', () => {
  test.each(byPayload)(
    'when %s is in every field of a ticket, then the ticket page shows it escaped to requester and staff',
    async (payload, i) => {
      const w = worlds[i];
      for (const agent of [w.emp, w.tech, admin]) {
        const page = await agent.get(`/tickets/${w.ticketId}`);
        expect(page.status).toBe(200);
        expect(problems(page.text, payload)).toEqual([]);
        expect(page.text).toContain(escapeHtml(payload));
      }
    },
  );

  test.each(byPayload)(
    'when %s is in titles and names, then the lists, the search and the forms show it escaped',
    async (payload, i) => {
      const w = worlds[i];
      const pages = [
        [w.emp, '/tickets'],
        [w.emp, `/tickets?q=z%C3%A8bre${i}`],
        [w.emp, '/account'],
        [w.tech, '/tickets'],
        [w.tech, `/tickets?q=z%C3%A8bre${i}`],
        [w.tech, `/tickets?category=${w.categoryId}`],
        [w.tech, '/tickets/new'],
        [admin, '/admin/users'],
        [admin, `/admin/users/${w.userId}`],
        [admin, '/admin/categories'],
        [admin, `/admin/categories/${w.categoryId}`],
        [admin, `/admin/outbox?ticket=${w.ticketId}`],
      ] as const;
      for (const [agent, url] of pages) {
        const page = await agent.get(url);
        expect(`${url} → ${page.status}`).toBe(`${url} → 200`);
        expect({ url, problems: problems(page.text, payload) }).toEqual({ url, problems: [] });
        expect({ url, shown: page.text.includes(escapeHtml(payload)) }).toEqual({
          url,
          shown: true,
        });
      }
    },
  );

  test('when every payload is stored, then every page without parameters, for every role, stays inert', async () => {
    const gets = listRoutes(ctx.app).filter((r) => r.method === 'GET' && !r.path.includes(':'));
    const failures: string[] = [];
    for (const agent of [admin, worlds[0].tech, worlds[0].emp]) {
      for (const route of gets) {
        const res = await agent.get(route.path);
        if (res.status >= 500) failures.push(`${route.path} → ${res.status}`);
        if (!/html/.test(String(res.headers['content-type']))) continue;
        for (const payload of XSS_PAYLOADS) {
          const p = problems(res.text, payload);
          if (p.length) failures.push(`${route.path}: ${p.join(', ')} (${payload})`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  test.each(byPayload)(
    'when %s is in emails, then the outbox list and each email page show it escaped',
    async (payload, i) => {
      const w = worlds[i];
      const ids = (await ctx
        .db('notifications')
        .where({ ticket_id: w.ticketId })
        .pluck('id')) as number[];
      expect(ids.length).toBeGreaterThan(0);
      for (const id of ids) {
        const page = await admin.get(`/admin/outbox/${id}`);
        expect(page.status).toBe(200);
        expect(problems(page.text, payload)).toEqual([]);
      }
    },
  );
});

describe('stored payloads in the emails', () => {
  test.each(byPayload)(
    'when %s is in a ticket, a reply and names, then every email of the ticket has it escaped in HTML and as typed in text',
    async (payload, i) => {
      const w = worlds[i];
      const emails = await ctx.db('notifications').where({ ticket_id: w.ticketId });
      const kinds = new Set(emails.map((e) => e.kind));
      expect([...kinds]).toEqual(
        expect.arrayContaining(['ticket_acknowledged', 'ticket_created', 'reply_to_requester']),
      );
      for (const e of emails) {
        expect({ kind: e.kind, problems: problems(e.html_body, payload) }).toEqual({
          kind: e.kind,
          problems: [],
        });
        expect(e.html_body).toContain(escapeHtml(payload));
        // The text part is not HTML: the title reads as typed, not as entities.
        expect(e.text_body).toContain(payload);
        expect(e.subject).toBe(`[#${w.ticketId}] ${payload}`);
      }
      // The internal note reached no requester.
      const toRequester = emails.filter((e) => e.to_email === w.employee.email);
      expect(toRequester.some((e) => e.text_body.includes(`${payload} 1`))).toBe(false);
    },
  );

  test.each(byPayload)(
    'when an invitation goes to someone named %s, then the email has the name escaped',
    async (payload, i) => {
      const email = `invite-xss-${i}@example.com`;
      const res = await postForm(
        admin,
        '/admin/users',
        { name: payload, email, role: 'employee', locale: 'en', password: '' },
        { from: '/admin/users/new' },
      );
      expect(res.status).toBe(302);
      const mail = await ctx.db('notifications').where({ to_email: email }).first();
      expect(problems(mail.html_body, payload)).toEqual([]);
      expect(mail.html_body).toContain(escapeHtml(payload));
      expect(mail.text_body).toContain(payload);
    },
  );
});

describe('reflected payloads in forms sent back and in the query string', () => {
  test.each(byPayload)(
    'when a refused form carries %s, then the form comes back with it escaped',
    async (payload, i) => {
      const w = worlds[i];
      const checks = [
        await postMultipart(w.emp, '/tickets', { title: payload, description: '' }, [], {
          from: '/tickets/new',
        }),
        await postMultipart(
          w.tech,
          `/tickets/${w.ticketId}/replies`,
          { version: '1', body: payload },
          [],
          { from: `/tickets/${w.ticketId}` },
        ),
        await postForm(
          admin,
          '/admin/users',
          { name: payload, email: payload, role: 'employee' },
          { from: '/admin/users/new' },
        ),
        await postForm(
          admin,
          '/admin/categories',
          { name: `${payload}${'x'.repeat(80)}` },
          { from: '/admin/categories/new' },
        ),
        await postForm(w.emp, '/account', { name: payload, locale: payload }),
        await postForm(newAgent(ctx.app), '/login', { email: payload, password: payload }),
        await postForm(newAgent(ctx.app), '/password/forgot', { email: payload }),
      ];
      for (const res of checks) {
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
        expect(problems(res.text, payload)).toEqual([]);
      }
      // The stale reply (409) keeps the text, escaped.
      expect(checks[1].status).toBe(409);
      expect(checks[1].text).toContain(escapeHtml(payload));
    },
  );

  test.each(byPayload)(
    'when %s is in the query string, then the search boxes and links show it escaped',
    async (payload, i) => {
      const w = worlds[i];
      const q = encodeURIComponent(payload);
      const pages = [
        [w.emp, `/tickets?q=${q}`],
        [w.tech, `/tickets?q=${q}&status=${q}&sort=${q}&priority=${q}&assignee=${q}`],
        [admin, `/admin/users?q=${q}&role=${q}`],
        [admin, `/admin/outbox?q=${q}&status=${q}&ticket=${q}`],
        [newAgent(ctx.app), `/login?returnTo=${q}`],
        [newAgent(ctx.app), `/login?returnTo=/${q}`],
        [newAgent(ctx.app), `/setup?token=${q}`],
        [newAgent(ctx.app), `/password/reset/${q}`],
      ] as const;
      for (const [agent, url] of pages) {
        const res = await agent.get(url);
        expect(res.status).toBeLessThan(500);
        expect({ url, problems: problems(res.text, payload) }).toEqual({ url, problems: [] });
      }
    },
  );
});
