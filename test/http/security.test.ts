import { createTestContext, TEST_BASE_URL, type TestContext } from '../support/app';
import { csrfFrom, loginAs, newAgent } from '../support/agent';
import { createUser } from '../support/factories';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

describe('CSRF', () => {
  test('when a form is posted without its token, then it is refused with a friendly 403 page', async () => {
    const user = await createUser(ctx.db);
    const agent = newAgent(ctx.app);
    await loginAs(agent, user);

    const res = await agent.post('/account').type('form').send({ name: 'Hacked', locale: 'fr' });

    expect(res.status).toBe(403);
    expect(res.text).toContain('Le formulaire a expiré');
    expect(res.text).not.toMatch(/at .*\.(ts|js):\d+/);
    const row = await ctx.db('users').where({ id: user.id }).first();
    expect(row.name).toBe(user.name);
  });

  test('when the token belongs to another session, then it is refused', async () => {
    const a = newAgent(ctx.app);
    const b = newAgent(ctx.app);
    const tokenOfA = await csrfFrom(a, '/login');
    await b.get('/login');
    const res = await b
      .post('/login')
      .type('form')
      .send({ _csrf: tokenOfA, email: 'x@example.com', password: 'whatever-pw' });
    expect(res.status).toBe(403);
  });
});

describe('Origin check', () => {
  test('when a state-changing request comes from a foreign origin, then it is refused', async () => {
    const agent = newAgent(ctx.app);
    const token = await csrfFrom(agent, '/login');
    const res = await agent
      .post('/login')
      .set('Origin', 'https://evil.example')
      .type('form')
      .send({ _csrf: token, email: 'a@example.com', password: 'whatever-pw' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('APP_URL');
  });

  test('when the Referer is foreign and there is no Origin, then it is refused', async () => {
    const agent = newAgent(ctx.app);
    const token = await csrfFrom(agent, '/login');
    const res = await agent
      .post('/login')
      .set('Referer', 'https://evil.example/page')
      .type('form')
      .send({ _csrf: token, email: 'a@example.com', password: 'whatever-pw' });
    expect(res.status).toBe(403);
  });

  test('when the Origin is APP_URL, then the request goes through', async () => {
    const user = await createUser(ctx.db);
    const agent = newAgent(ctx.app);
    const token = await csrfFrom(agent, '/login');
    const res = await agent
      .post('/login')
      .set('Origin', TEST_BASE_URL)
      .type('form')
      .send({ _csrf: token, email: user.email, password: user.password });
    expect(res.status).toBe(302);
  });
});

describe('headers and cookies', () => {
  test('when a page is served, then a strict CSP without inline scripts and safe headers are set', async () => {
    const res = await newAgent(ctx.app).get('/login');
    const csp = res.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("'unsafe-inline'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    // Browsers send `Origin: null` under `no-referrer`, which the origin check refuses.
    expect(res.headers['referrer-policy']).toBe('same-origin');
    expect(res.headers['x-powered-by']).toBeUndefined();
    expect(res.headers['x-request-id']).toMatch(/^[\w-]+$/);
  });

  test('when a session starts, then its cookie is HttpOnly and SameSite=Lax with the idle lifetime', async () => {
    const res = await newAgent(ctx.app).get('/login');
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('guichet.sid='),
    )!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toMatch(/Secure/i);
    const expires = new Date(/Expires=([^;]+)/i.exec(cookie)![1]).getTime();
    const lifetimeMinutes = (expires - Date.now()) / 60000;
    expect(lifetimeMinutes).toBeGreaterThan(1438);
    expect(lifetimeMinutes).toBeLessThanOrEqual(1440);
  });

  test('when a page is missing, then a 404 page is shown in the visitor language', async () => {
    const fr = await newAgent(ctx.app).get('/nowhere');
    expect(fr.status).toBe(404);
    expect(fr.text).toContain('Page introuvable');
    const en = await newAgent(ctx.app).get('/nowhere').set('Accept-Language', 'en-GB,en;q=0.9');
    expect(en.text).toContain('Page not found');
    expect(en.text).toContain('<html lang="en">');
  });

  test('when the body is malformed or too large, then a 4xx page answers, not a 500', async () => {
    const agent = newAgent(ctx.app);
    const token = await csrfFrom(agent, '/login');
    const big = await agent
      .post('/login')
      .type('form')
      .send(`_csrf=${token}&email=${'a'.repeat(2 * 1024 * 1024)}`);
    expect(big.status).toBe(413);
  });
});

describe('secure cookies behind a proxy', () => {
  let proxied: TestContext;
  beforeAll(async () => {
    proxied = await createTestContext({
      env: { TRUST_PROXY: '1', APP_URL: 'https://support.example.com' },
    });
  });
  afterAll(() => proxied.close());

  test('when the proxy says the request came over HTTPS, then the cookie is Secure', async () => {
    const res = await newAgent(proxied.app).get('/login').set('X-Forwarded-Proto', 'https');
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('guichet.sid='),
    )!;
    expect(cookie).toMatch(/; Secure/i);
    expect(res.headers['strict-transport-security']).toBeDefined();
  });

  test('when the request came over plain HTTP, then the cookie is not marked Secure', async () => {
    const res = await newAgent(proxied.app).get('/login');
    const cookie = (res.headers['set-cookie'] as unknown as string[]).find((c) =>
      c.startsWith('guichet.sid='),
    );
    // express-session refuses to send a Secure cookie over HTTP: no cookie at all.
    expect(cookie === undefined || !/; Secure/i.test(cookie)).toBe(true);
  });
});
