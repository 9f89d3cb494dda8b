import { SESSION_COOKIE } from '../../src/app';
import { createTestContext, type TestContext } from '../support/app';
import { csrfFrom, loginAs, newAgent, postForm, type Agent } from '../support/agent';
import { createUser, type TestUser } from '../support/factories';
import { leaks } from '../support/hostile';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

/** Everything a crafted link may try to pass off as a local path. */
const EVIL_TARGETS = [
  'https://evil.example/',
  'http:evil.example',
  '//evil.example',
  '///evil.example',
  '////evil.example/x',
  '/\\evil.example',
  '\\\\evil.example',
  '/\t/evil.example',
  '/%2F%2Fevil.example',
  '/%5Cevil.example',
  '/%09/evil.example',
  ' //evil.example',
  'javascript:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  '/tickets\r\nSet-Cookie: pwned=1',
  '/tickets%0d%0aSet-Cookie:%20pwned=1',
  'evil.example',
  '@evil.example',
  '/.evil.example',
  `/${'a'.repeat(5000)}`,
];

/** A Location that a browser resolves to this site only, with no header smuggled in. */
function isLocal(location: string | undefined): boolean {
  if (location === undefined) return false;
  if (/[\r\n]/.test(location)) return false;
  if (!location.startsWith('/') || /^\/[/\\]/.test(location)) return false;
  return new URL(location, 'http://guichet.test').origin === 'http://guichet.test';
}

describe('open redirect: every returnTo', () => {
  let user: TestUser;
  let loggedIn: Agent;
  let admin: Agent;
  let notificationId: number;

  beforeAll(async () => {
    user = await createUser(ctx.db);
    loggedIn = newAgent(ctx.app);
    await loginAs(loggedIn, user);
    const adminUser = await createUser(ctx.db, { role: 'admin' });
    admin = newAgent(ctx.app);
    await loginAs(admin, adminUser);
    const [row] = await ctx
      .db('notifications')
      .insert({
        to_email: 'x@example.com',
        to_name: 'X',
        locale: 'fr',
        kind: 'test',
        subject: 'Test',
        text_body: 'Test',
        html_body: '<p>Test</p>',
        message_id: '<t@guichet.test>',
        delivery_key: 'hostile-session-test',
        status: 'failed',
      })
      .returning('id');
    notificationId = row.id;
  });

  const ENTRY_POINTS: Record<string, (target: string) => Promise<string | undefined>> = {
    'GET /login while logged in': async (target) =>
      (await loggedIn.get(`/login?returnTo=${encodeURIComponent(target)}`)).headers.location,
    'POST /login': async (target) => {
      const agent = newAgent(ctx.app);
      const res = await postForm(agent, '/login', {
        email: user.email,
        password: user.password,
        returnTo: target,
      });
      return res.headers.location;
    },
    'the hidden returnTo of GET /login, posted back': async (target) => {
      const agent = newAgent(ctx.app);
      const page = await agent.get(`/login?returnTo=${encodeURIComponent(target)}`);
      const hidden = /name="returnTo" value="([^"]*)"/.exec(page.text)![1];
      const res = await postForm(agent, '/login', {
        email: user.email,
        password: user.password,
        returnTo: hidden.replace(/&amp;/g, '&').replace(/&#34;/g, '"').replace(/&#39;/g, "'"),
      });
      return res.headers.location;
    },
    'POST /locale': async (target) =>
      (
        await postForm(
          loggedIn,
          '/locale',
          { locale: 'fr', returnTo: target },
          { from: '/account' },
        )
      ).headers.location,
    'POST /locale with an unknown locale': async (target) =>
      (
        await postForm(
          loggedIn,
          '/locale',
          { locale: 'xx', returnTo: target },
          { from: '/account' },
        )
      ).headers.location,
    'POST /admin/outbox/:id/retry': async (target) =>
      (
        await postForm(
          admin,
          `/admin/outbox/${notificationId}/retry`,
          { returnTo: target },
          { from: '/admin/outbox' },
        )
      ).headers.location,
  };

  test.each(Object.keys(ENTRY_POINTS))(
    'when %s is given a foreign or malformed target, then the redirect stays on this site',
    async (entry) => {
      const wrong: string[] = [];
      for (const target of EVIL_TARGETS) {
        const location = await ENTRY_POINTS[entry](target);
        if (!isLocal(location)) wrong.push(`${JSON.stringify(target)} → ${location}`);
      }
      expect(wrong).toEqual([]);
    },
  );

  test('when returnTo is repeated, then the login still lands on a local page', async () => {
    const agent = newAgent(ctx.app);
    const page = await agent.get('/login?returnTo=/tickets&returnTo=//evil.example');
    expect(page.status).toBe(200);
    const hidden =
      /<form method="post" action="\/login"[\s\S]*?name="returnTo" value="([^"]*)"/.exec(
        page.text,
      )![1];
    expect(isLocal(hidden)).toBe(true);
    const res = await postForm(agent, '/login', {
      email: user.email,
      password: user.password,
      returnTo: ['/tickets', '//evil.example'],
    });
    expect(res.status).toBeLessThan(500);
    expect(res.headers.location === undefined || isLocal(res.headers.location)).toBe(true);
  });

  test('when a logged-out visitor opens a deep link with a hostile path, then the login link keeps it local', async () => {
    const res = await newAgent(ctx.app).get('/tickets/..%2F..%2F%2Fevil.example');
    expect(res.status).toBeLessThan(500);
    if (res.status === 302) {
      expect(isLocal(res.headers.location)).toBe(true);
      const returnTo = new URL(res.headers.location, 'http://x').searchParams.get('returnTo');
      expect(returnTo === null || isLocal(returnTo)).toBe(true);
    }
  });
});

describe('session fixation', () => {
  test('when an attacker plants a session cookie before the victim logs in, then that cookie never becomes the victim’s session', async () => {
    // Arrange: the attacker gets a session id from the login page and plants it.
    const victim = await createUser(ctx.db);
    const attacker = newAgent(ctx.app);
    const page = await attacker.get('/login');
    const planted = (page.headers['set-cookie'] as unknown as string[])
      .find((c) => c.startsWith(`${SESSION_COOKIE}=`))!
      .split(';')[0];

    // Act: the victim logs in carrying the planted cookie.
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
    const login = await newAgent(ctx.app)
      .post('/login')
      .set('Cookie', planted)
      .type('form')
      .send({ _csrf: token, email: victim.email, password: victim.password });

    // Assert: logged in under a new id; the planted one opens nothing.
    expect(login.status).toBe(302);
    const issued = (login.headers['set-cookie'] as unknown as string[])
      .find((c) => c.startsWith(`${SESSION_COOKIE}=`))!
      .split(';')[0];
    expect(issued).not.toBe(planted);
    const withPlanted = await newAgent(ctx.app).get('/tickets').set('Cookie', planted);
    expect(withPlanted.status).toBe(302);
    expect(withPlanted.headers.location).toMatch(/^\/login/);
    const withIssued = await newAgent(ctx.app).get('/tickets').set('Cookie', issued);
    expect(withIssued.status).toBe(200);
  });

  test('when a made-up or tampered session cookie is sent, then it is ignored, not an error', async () => {
    for (const cookie of [
      `${SESSION_COOKIE}=s%3Aforged.signature`,
      `${SESSION_COOKIE}=${'A'.repeat(4000)}`,
      `${SESSION_COOKIE}=%00%27%22--`,
      `${SESSION_COOKIE}=s%3A' OR '1'='1.abc`,
    ]) {
      const res = await newAgent(ctx.app).get('/tickets').set('Cookie', cookie);
      expect(res.status).toBe(302);
      expect(res.headers.location).toMatch(/^\/login/);
    }
  });
});

describe('logout and deactivation end sessions on the server', () => {
  test('when a user logs out, then the session row is gone and a replayed cookie can neither read nor post', async () => {
    // Arrange
    const user = await createUser(ctx.db);
    const agent = newAgent(ctx.app);
    const login = await loginAs(agent, user);
    const cookie = (login.headers['set-cookie'] as unknown as string[])
      .find((c) => c.startsWith(`${SESSION_COOKIE}=`))!
      .split(';')[0];
    const sid = decodeURIComponent(cookie.split('=')[1]).replace(/^s:/, '').split('.')[0];
    const token = await csrfFrom(agent, '/account');
    expect(await ctx.db('session').where({ sid }).first()).toBeDefined();

    // Act
    const out = await postForm(agent, '/logout', {}, { from: '/account' });

    // Assert
    expect(out.status).toBe(302);
    expect(await ctx.db('session').where({ sid }).first()).toBeUndefined();
    const replay = newAgent(ctx.app);
    const read = await replay.get('/account').set('Cookie', cookie);
    expect(read.status).toBe(302);
    const write = await replay
      .post('/account')
      .set('Cookie', cookie)
      .type('form')
      .send({ _csrf: token, name: 'Après déconnexion', locale: 'fr' });
    expect(write.status).toBe(403);
    expect((await ctx.db('users').where({ id: user.id }).first()).name).toBe(user.name);
  });

  test('when an account is deactivated while its session is live, then the very next request, read or write, is refused', async () => {
    // Arrange
    const user = await createUser(ctx.db);
    const agent = newAgent(ctx.app);
    await loginAs(agent, user);
    const token = await csrfFrom(agent, '/tickets/new');

    // Act: deactivated behind its back (as an admin, or straight in the database).
    await ctx.db('users').where({ id: user.id }).update({ active: false });

    // Assert
    const read = await agent.get('/tickets');
    expect(read.status).toBe(302);
    expect(read.headers.location).toMatch(/^\/login/);
    const ticketsBefore = await ctx.db('tickets').count({ n: '*' }).first();
    const write = await agent
      .post(`/tickets?_csrf=${token}`)
      .type('form')
      .send({ _csrf: token, title: 'Après désactivation', description: 'x' });
    expect([302, 403]).toContain(write.status);
    if (write.status === 302) expect(write.headers.location).toMatch(/^\/login/);
    expect(await ctx.db('tickets').count({ n: '*' }).first()).toEqual(ticketsBefore);
    expect(leaks(write.text ?? '')).toEqual([]);
  });
});
