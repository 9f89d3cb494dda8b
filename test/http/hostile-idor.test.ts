import { createTestContext, type TestContext } from '../support/app';
import {
  csrfFrom,
  loginAs,
  newAgent,
  postForm,
  postMultipart,
  versionOf,
  type Agent,
} from '../support/agent';
import { createUser, type TestUser } from '../support/factories';
import { changedTables, concrete, fingerprint, leaks } from '../support/hostile';
import { listRoutes, type RouteInfo } from '../support/routes';

/**
 * IDOR: every route the router declares × every role × an object that belongs to someone else.
 * The expected answer comes from rules by path, so a new route falls under its family's rule;
 * a refusal must change nothing and show nothing of the object.
 */
let ctx: TestContext;
const agents: Record<string, Agent> = {};
let owner: TestUser;
let ownerAgent: Agent;
let victim: TestUser;
let categoryId: number;
let notificationId: number;

const ROLES = ['anonymous', 'employee', 'technician', 'admin'] as const;
type Role = (typeof ROLES)[number];

/** Answers a refused request may give: hidden (404), forbidden (403) or sent to log in. */
type Expect = 'login' | 'hidden' | 'forbidden' | 'allowed';

/** Routes anyone may reach, object-free or protected by a secret in the URL. */
const PUBLIC = [
  /^\/login$/,
  /^\/logout$/,
  /^\/locale$/,
  /^\/setup$/,
  /^\/password\//,
  /^\/(healthz|readyz)$/,
];

function expected(route: RouteInfo, role: Role): Expect {
  const { path } = route;
  if (PUBLIC.some((re) => re.test(path))) return 'allowed';
  if (role === 'anonymous') return 'login';
  if (path.startsWith('/admin')) return role === 'admin' ? 'allowed' : 'forbidden';
  if (path.startsWith('/dashboard') || path === '/tickets.csv')
    return role === 'employee' ? 'forbidden' : 'allowed';
  // Someone else's ticket or file: an employee must not even learn it exists.
  if (/^\/(tickets|attachments)\/:id/.test(path)) return role === 'employee' ? 'hidden' : 'allowed';
  return 'allowed';
}

function matches(exp: Expect, status: number, location: string | undefined): boolean {
  switch (exp) {
    case 'login':
      return status === 302 && /^\/login(\?|$)/.test(location ?? '');
    case 'hidden':
      return status === 404;
    case 'forbidden':
      return status === 403;
    case 'allowed':
      return status < 500;
  }
}

let ticket: { id: number; attachmentId: number; noteAttachmentId: number; title: string };

async function freshTicket() {
  const title = `Secret de ${owner.name} ${Math.random().toString(36).slice(2, 8)}`;
  const res = await postMultipart(
    ownerAgent,
    '/tickets',
    { title, description: 'Mot de passe du coffre : 1234.' },
    [{ name: 'coffre.txt', content: 'contenu privé\n' }],
    { from: '/tickets/new' },
  );
  const id = Number(/\/tickets\/(\d+)/.exec(res.headers.location)![1]);
  const note = await postMultipart(
    agents.technician,
    `/tickets/${id}/replies`,
    { version: await versionOf(agents.technician, id), body: 'Note interne', internal: '1' },
    [{ name: 'interne.txt', content: 'note privée\n' }],
    { from: `/tickets/${id}` },
  );
  if (note.status !== 302) throw new Error(`note: ${note.status}`);
  const files = await ctx.db('attachments').where({ ticket_id: id }).orderBy('id');
  return { id, attachmentId: files[0].id, noteAttachmentId: files[1].id, title };
}

beforeAll(async () => {
  ctx = await createTestContext();
  owner = await createUser(ctx.db, { name: 'Propriétaire' });
  ownerAgent = newAgent(ctx.app);
  await loginAs(ownerAgent, owner);
  victim = await createUser(ctx.db, { name: 'Victime' });
  agents.anonymous = newAgent(ctx.app);
  for (const role of ['employee', 'technician', 'admin'] as const) {
    agents[role] = newAgent(ctx.app);
    await loginAs(agents[role], await createUser(ctx.db, { role }));
  }
  const [cat] = await ctx
    .db('categories')
    .insert({ name: 'Matériel', position: 1 })
    .returning('id');
  categoryId = cat.id;
  ticket = await freshTicket();
  notificationId = (await ctx.db('notifications').first('id')).id;
});
afterAll(() => ctx.close());

/** Someone else's object behind every `:param`. */
function urlFor(route: RouteInfo, t: typeof ticket): string {
  const p: Record<string, string> = { id: String(t.id), token: 'b'.repeat(43) };
  if (route.path.startsWith('/attachments/')) p.id = String(t.attachmentId);
  if (route.path.startsWith('/admin/users/')) p.id = String(victim.id);
  if (route.path.startsWith('/admin/categories/')) p.id = String(categoryId);
  if (route.path.startsWith('/admin/outbox/')) p.id = String(notificationId);
  return concrete(route.path, p);
}

const FIELDS = (version: string) => ({
  version,
  body: 'Intrusion',
  status: 'closed',
  priority: 'urgent',
  name: 'Intrus',
  email: 'intrus@example.com',
  role: 'employee',
  locale: 'fr',
  direction: 'down',
  active: '1',
});

describe('IDOR: every route × role × someone else’s object', () => {
  test('when each role calls each route on another person’s object, then the answer follows the rules and refusals change and reveal nothing', async () => {
    const routes = listRoutes(ctx.app).filter(
      (r) => ['GET', 'POST'].includes(r.method) && r.path !== '/logout',
    );
    const wrong: string[] = [];
    for (const route of routes) {
      for (const role of ROLES) {
        const exp = expected(route, role);
        // A fresh ticket when the route could change it, so each request meets a clean one.
        if (route.method === 'POST' && route.path.startsWith('/tickets/'))
          ticket = await freshTicket();
        const url = urlFor(route, ticket);
        const agent = agents[role];
        const before = exp === 'allowed' ? null : await fingerprint(ctx.db);
        let res;
        if (route.method === 'GET') {
          res = await agent.get(url);
        } else {
          const token = await csrfFrom(agent, role === 'anonymous' ? '/login' : '/account');
          const version = String(
            (await ctx.db('tickets').where({ id: ticket.id }).first()).version,
          );
          res = await agent
            .post(`${url}?_csrf=${token}`)
            .type('form')
            .send({ ...FIELDS(version), _csrf: token });
        }
        const where = `${role} ${route.method} ${url}`;
        if (!matches(exp, res.status, res.headers.location)) {
          wrong.push(`${where}: expected ${exp}, got ${res.status} ${res.headers.location ?? ''}`);
        }
        if (before) {
          const changed = changedTables(before, await fingerprint(ctx.db));
          if (changed.length) wrong.push(`${where}: refused but changed ${changed.join(', ')}`);
          const body = typeof res.text === 'string' ? res.text : '';
          if (body.includes(ticket.title) || body.includes('coffre'))
            wrong.push(`${where}: leaked the object`);
        }
        if (leaks(res.text ?? '').length) wrong.push(`${where}: ${leaks(res.text).join(', ')}`);
      }
    }
    expect(wrong).toEqual([]);
    // Every route × 4 roles, with a fresh ticket per write: give a busy CI machine room.
  }, 180_000);

  test('when an employee guesses the id of a file of an internal note on their own ticket, then it stays hidden', async () => {
    const t = await freshTicket();
    const res = await ownerAgent.get(`/attachments/${t.noteAttachmentId}`);
    expect(res.status).toBe(404);
  });
});

describe('IDOR through ids inside forms', () => {
  test('when a technician assigns a ticket to an employee or to someone unknown, then 422 and no change', async () => {
    const t = await freshTicket();
    const before = await ctx.db('tickets').where({ id: t.id }).first();
    for (const assignee of [String(owner.id), String(victim.id), '987654321']) {
      const res = await postForm(
        agents.technician,
        `/tickets/${t.id}/fields`,
        { version: String(before.version), assignee_id: assignee },
        { from: `/tickets/${t.id}` },
      );
      expect(res.status).toBe(422);
    }
    expect((await ctx.db('tickets').where({ id: t.id }).first()).version).toBe(before.version);
  });

  test('when an employee sends the version of their own ticket to change someone else’s, then 404 and no change', async () => {
    const t = await freshTicket();
    const before = await fingerprint(ctx.db);
    const res = await postMultipart(
      agents.employee,
      `/tickets/${t.id}/replies`,
      { version: '1', body: 'Je passe par là' },
      [],
      { from: '/account' },
    );
    expect(res.status).toBe(404);
    expect(res.text).not.toContain(t.title);
    expect(changedTables(before, await fingerprint(ctx.db))).toEqual([]);
  });

  test('when a profile form carries extra fields (role, email, active, id), then only the name and language change', async () => {
    const user = await createUser(ctx.db);
    const agent = newAgent(ctx.app);
    await loginAs(agent, user);
    const res = await postForm(agent, '/account', {
      name: 'Nouveau nom',
      locale: 'en',
      role: 'admin',
      email: 'takeover@example.com',
      active: '0',
      id: String(victim.id),
      password_hash: 'x',
    });
    expect(res.status).toBe(302);
    const row = await ctx.db('users').where({ id: user.id }).first();
    expect(row).toMatchObject({
      name: 'Nouveau nom',
      role: 'employee',
      email: user.email,
      active: true,
    });
    const other = await ctx.db('users').where({ id: victim.id }).first();
    expect(other.name).toBe('Victime');
    expect((await agent.get('/admin/users')).status).toBe(403);
  });

  test('when an employee files a ticket naming a category that is inactive or unknown, then 422 and nothing is created', async () => {
    const [inactive] = await ctx
      .db('categories')
      .insert({ name: 'Archivée', position: 2, active: false })
      .returning('id');
    const before = await ctx.db('tickets').count({ n: '*' }).first();
    for (const id of [String(inactive.id), '987654321']) {
      const res = await postMultipart(
        agents.employee,
        '/tickets',
        { title: 'Catégorie cachée', description: 'x', category_id: id },
        [],
        { from: '/tickets/new' },
      );
      expect(res.status).toBe(422);
    }
    expect(await ctx.db('tickets').count({ n: '*' }).first()).toEqual(before);
  });
});
