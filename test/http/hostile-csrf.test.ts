import { createTestContext, TEST_BASE_URL, type TestContext } from '../support/app';
import { csrfFrom, loginAs, newAgent, postMultipart, type Agent } from '../support/agent';
import { createUser, type TestUser } from '../support/factories';
import { changedTables, concrete, fingerprint, leaks, stateChanging } from '../support/hostile';
import { listRoutes, type RouteInfo } from '../support/routes';

/**
 * Every state-changing route the router declares, found by walking it, so that a route added
 * tomorrow is covered without touching this file: without its CSRF token, or sent from another
 * site, the request is refused with 403 and nothing in the database moves.
 */
let ctx: TestContext;
let admin: TestUser;
let adminAgent: Agent;
let params: Record<string, string>;
let routes: RouteInfo[];

/** What a forged form would carry: enough for any of these routes to do harm if it went through. */
const FORGED = {
  title: 'Forgé',
  description: 'Forgé',
  body: 'Forgé',
  internal: '1',
  name: 'Pirate',
  email: 'pirate@example.com',
  to: 'pirate@example.com',
  role: 'admin',
  password: 'pirate-password-123',
  password_confirm: 'pirate-password-123',
  current_password: 'correct-horse-battery',
  new_password: 'pirate-password-123',
  new_password_confirm: 'pirate-password-123',
  locale: 'en',
  status: 'closed',
  priority: 'urgent',
  direction: 'up',
  active: '1',
  notify_created: '1',
};

beforeAll(async () => {
  ctx = await createTestContext();
  admin = await createUser(ctx.db, { role: 'admin' });
  adminAgent = newAgent(ctx.app);
  await loginAs(adminAgent, admin);
  const employee = await createUser(ctx.db);
  const emp = newAgent(ctx.app);
  await loginAs(emp, employee);
  const created = await postMultipart(
    emp,
    '/tickets',
    { title: 'Cible', description: 'Un ticket à modifier.' },
    [{ name: 'note.txt', content: 'x' }],
    { from: '/tickets/new' },
  );
  const ticketId = /\/tickets\/(\d+)/.exec(created.headers.location)![1];
  const [category] = await ctx
    .db('categories')
    .insert({ name: 'Réseau', position: 1 })
    .returning('id');
  const notification = await ctx.db('notifications').first('id');
  params = {
    id: ticketId,
    token: 'a'.repeat(43),
    _category: String(category.id),
    _user: String(employee.id),
    _notification: String(notification.id),
  };
  routes = stateChanging(listRoutes(ctx.app));
});
afterAll(() => ctx.close());

/** A real object behind every `:id`, so a request that got through would change something. */
function urlOf(route: RouteInfo): string {
  const p = { ...params };
  if (route.path.startsWith('/admin/users/')) p.id = params._user;
  else if (route.path.startsWith('/admin/categories/')) p.id = params._category;
  else if (route.path.startsWith('/admin/outbox/')) p.id = params._notification;
  return concrete(route.path, p);
}

/** A valid token of this agent's own session (the login form redirects once logged in). */
const tokenOf = (agent: Agent) => csrfFrom(agent, agent === adminAgent ? '/account' : '/login');

function send(agent: Agent, route: RouteInfo, url: string) {
  const method = route.method.toLowerCase() as 'post' | 'put' | 'patch' | 'delete';
  return agent[method](url);
}

describe('CSRF and origin on every state-changing route', () => {
  test('when the routes are listed, then the known state-changing ones are among them', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'POST /login',
        'POST /logout',
        'POST /tickets',
        'POST /tickets/:id/replies',
        'POST /admin/users/:id',
        'POST /account/password',
      ]),
    );
  });

  test('when a logged-in form is posted with its token and from APP_URL, then it goes through (the refusals below are not a broken form)', async () => {
    const token = await csrfFrom(adminAgent, '/account');
    const res = await adminAgent
      .post('/account')
      .set('Origin', TEST_BASE_URL)
      .type('form')
      .send({ _csrf: token, name: admin.name, locale: 'fr' });
    expect(res.status).toBe(302);
  });

  const ATTEMPTS: Record<string, (agent: Agent, route: RouteInfo, url: string) => Promise<number>> =
    {
      'no token': async (agent, route, url) =>
        (await send(agent, route, url).type('form').send(FORGED)).status,
      'a token of another session': async (agent, route, url) => {
        const foreign = await csrfFrom(newAgent(ctx.app), '/login');
        return (
          await send(agent, route, url)
            .type('form')
            .send({ ...FORGED, _csrf: foreign })
        ).status;
      },
      'no token, as multipart': async (agent, route, url) =>
        (await send(agent, route, url).field('title', 'Forgé').field('body', 'Forgé')).status,
      'a foreign Origin': async (agent, route, url) => {
        const token = await tokenOf(agent);
        return (
          await send(agent, route, `${url}?_csrf=${token}`)
            .set('Origin', 'https://evil.example')
            .type('form')
            .send({ ...FORGED, _csrf: token })
        ).status;
      },
      'Origin: null': async (agent, route, url) => {
        const token = await tokenOf(agent);
        return (
          await send(agent, route, url)
            .set('Origin', 'null')
            .type('form')
            .send({ ...FORGED, _csrf: token })
        ).status;
      },
      'a foreign Referer and no Origin': async (agent, route, url) => {
        const token = await tokenOf(agent);
        return (
          await send(agent, route, url)
            .set('Referer', 'https://evil.example/form.html')
            .type('form')
            .send({ ...FORGED, _csrf: token })
        ).status;
      },
    };

  test.each(Object.keys(ATTEMPTS))(
    'when every state-changing route is posted with %s, then each answers 403 and nothing changes',
    async (attempt) => {
      const before = await fingerprint(ctx.db);
      const anonymous = newAgent(ctx.app);
      const wrong: string[] = [];
      for (const route of routes) {
        for (const [who, agent] of [
          ['admin', adminAgent],
          ['anonymous', anonymous],
        ] as const) {
          const status = await ATTEMPTS[attempt](agent, route, urlOf(route));
          if (status !== 403) wrong.push(`${who} ${route.method} ${route.path} → ${status}`);
        }
      }
      expect(wrong).toEqual([]);
      expect(changedTables(before, await fingerprint(ctx.db))).toEqual([]);
      // Still logged in: no forged POST /logout went through.
      expect((await adminAgent.get('/admin/users')).status).toBe(200);
    },
  );

  test('when a forged request is refused, then the page is the friendly 403 with no stack, and its retry link stays on this site', async () => {
    const res = await adminAgent
      .post('//evil.example/tickets')
      .set('Origin', 'https://evil.example')
      .type('form')
      .send(FORGED);
    expect(res.status).toBe(403);
    expect(leaks(res.text)).toEqual([]);
    const hrefs = [...res.text.matchAll(/href="([^"]*)"/g)].map((m) => m[1]);
    expect(hrefs.filter((h) => !/^(\/(?![/\\])|#)/.test(h))).toEqual([]);
  });
});
