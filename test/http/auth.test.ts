import { createTestContext, type TestContext } from '../support/app';
import { csrfFrom, loginAs, newAgent, postForm, sessionCookie } from '../support/agent';
import { createUser } from '../support/factories';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

describe('login and logout', () => {
  test('when an employee logs in, then they land on their requests and the session id changes', async () => {
    const user = await createUser(ctx.db, { name: 'Camille Martin' });
    const agent = newAgent(ctx.app);
    const page = await agent.get('/login');
    const before = sessionCookie(page);
    expect(before).toBeDefined();

    const res = await loginAs(agent, user);

    expect(res.headers.location).toBe('/');
    const after = sessionCookie(res);
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    const home = await agent.get('/');
    expect(home.status).toBe(302);
    expect(home.headers.location).toBe('/tickets');
    const list = await agent.get('/tickets');
    expect(list.text).toContain('Mes demandes');
    expect(list.text).toContain('Camille Martin');
  });

  test('when the password is wrong or the email unknown, then the same message is shown', async () => {
    const user = await createUser(ctx.db);
    const agent = newAgent(ctx.app);
    const wrong = await postForm(agent, '/login', {
      email: user.email,
      password: 'nope-nope-nope',
    });
    const unknown = await postForm(agent, '/login', {
      email: 'nobody@example.com',
      password: 'nope-nope-nope',
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    const message = 'Adresse e-mail ou mot de passe incorrect.';
    expect(wrong.text).toContain(message);
    expect(unknown.text).toContain(message);
    expect(wrong.text).toContain(`value="${user.email}"`);
  });

  test('when the form is empty, then each field says it is required', async () => {
    const res = await postForm(newAgent(ctx.app), '/login', { email: '', password: '' });
    expect(res.status).toBe(400);
    expect(res.text.match(/Ce champ est obligatoire/g)?.length).toBeGreaterThanOrEqual(2);
  });

  test('when a user logs out, then the old session cookie no longer opens a page', async () => {
    const user = await createUser(ctx.db);
    const agent = newAgent(ctx.app);
    const login = await loginAs(agent, user);
    const cookie = sessionCookie(login)!;
    const token = await csrfFrom(agent, '/account');

    const out = await agent.post('/logout').type('form').send({ _csrf: token });

    expect(out.status).toBe(302);
    expect(out.headers.location).toBe('/login');
    const replay = await newAgent(ctx.app).get('/account').set('Cookie', cookie);
    expect(replay.status).toBe(302);
    expect(replay.headers.location).toBe('/login?returnTo=%2Faccount');
    const rows = await ctx.db('session').whereRaw(`sess::text like ?`, [`%"user":${user.id}%`]);
    expect(rows).toHaveLength(0);
  });

  test('when a deactivated user tries to log in, then it fails like a wrong password', async () => {
    const user = await createUser(ctx.db, { active: false });
    const res = await postForm(newAgent(ctx.app), '/login', {
      email: user.email,
      password: user.password,
    });
    expect(res.status).toBe(401);
  });

  test('when the email differs in case, then the login still works', async () => {
    const user = await createUser(ctx.db);
    const res = await postForm(newAgent(ctx.app), '/login', {
      email: user.email.toUpperCase(),
      password: user.password,
    });
    expect(res.status).toBe(302);
  });
});

describe('returnTo', () => {
  test('when a logged-out user asks for a page, then login brings them back to it', async () => {
    const user = await createUser(ctx.db);
    const agent = newAgent(ctx.app);
    const ask = await agent.get('/account?tab=password');
    expect(ask.status).toBe(302);
    expect(ask.headers.location).toBe('/login?returnTo=%2Faccount%3Ftab%3Dpassword');

    const res = await loginAs(agent, user, '/account?tab=password');

    expect(res.headers.location).toBe('/account?tab=password');
  });

  test.each(['//evil.example', 'https://evil.example/', '/\\evil.example', 'javascript:alert(1)'])(
    'when returnTo is %s, then login lands on /',
    async (returnTo) => {
      const user = await createUser(ctx.db);
      const agent = newAgent(ctx.app);
      const form = await agent.get(`/login?returnTo=${encodeURIComponent(returnTo)}`);
      expect(form.text).toContain('name="returnTo" value="/"');
      const res = await postForm(agent, '/login', {
        email: user.email,
        password: user.password,
        returnTo,
      });
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe('/');
    },
  );
});

describe('login throttling', () => {
  test('when one account gets repeated wrong passwords, then it answers 429 even with the right one', async () => {
    const user = await createUser(ctx.db);
    const agent = newAgent(ctx.app);
    for (let i = 0; i < 5; i++) {
      const res = await postForm(agent, '/login', { email: user.email, password: `wrong-${i}-pw` });
      expect(res.status).toBe(401);
    }
    const blocked = await postForm(agent, '/login', { email: user.email, password: user.password });
    expect(blocked.status).toBe(429);
    expect(blocked.headers['retry-after']).toMatch(/^\d+$/);
    expect(blocked.text).toMatch(/Trop de tentatives de connexion\. Réessayez dans \d+ minutes?\./);

    const english = await newAgent(ctx.app).get('/login').set('Accept-Language', 'en');
    expect(english.text).toContain('Log in');
  });

  test('when an account is blocked, then other accounts from elsewhere still log in', async () => {
    const victim = await createUser(ctx.db);
    const other = await createUser(ctx.db);
    const agent = newAgent(ctx.app);
    for (let i = 0; i < 6; i++) {
      await postForm(agent, '/login', { email: victim.email, password: `wrong-${i}-pw` });
    }
    const res = await postForm(newAgent(ctx.app), '/login', {
      email: other.email,
      password: other.password,
    });
    expect(res.status).toBe(302);
  });

  test('when a success follows a few failures, then the account counter starts again', async () => {
    const user = await createUser(ctx.db);
    const agent = newAgent(ctx.app);
    for (let i = 0; i < 4; i++) {
      await postForm(agent, '/login', { email: user.email, password: `wrong-${i}-pw` });
    }
    await loginAs(newAgent(ctx.app), user);
    for (let i = 0; i < 4; i++) {
      await postForm(agent, '/login', { email: user.email, password: `wrong-${i}-pw` });
    }
    await loginAs(newAgent(ctx.app), user);
  });
});

describe('throttling per address', () => {
  let strict: TestContext;
  beforeAll(async () => {
    strict = await createTestContext({
      env: { TRUST_PROXY: 'true' },
      deps: {
        loginThrottle: { perAccount: 100, perAddress: 3, windowSeconds: 600, blockSeconds: 600 },
      },
    });
  });
  afterAll(() => strict.close());

  test('when one address tries many accounts, then that address is blocked, not others', async () => {
    const agent = newAgent(strict.app);
    for (let i = 0; i < 3; i++) {
      const token = await csrfFrom(agent, '/login');
      await agent
        .post('/login')
        .set('X-Forwarded-For', '203.0.113.7')
        .type('form')
        .send({ _csrf: token, email: `guess${i}@example.com`, password: 'guess-guess' });
    }
    const token = await csrfFrom(agent, '/login');
    const blocked = await agent
      .post('/login')
      .set('X-Forwarded-For', '203.0.113.7')
      .type('form')
      .send({ _csrf: token, email: 'guess9@example.com', password: 'guess-guess' });
    expect(blocked.status).toBe(429);

    const user = await createUser(strict.db);
    const fromElsewhere = newAgent(strict.app);
    const token2 = await csrfFrom(fromElsewhere, '/login');
    const ok = await fromElsewhere
      .post('/login')
      .set('X-Forwarded-For', '198.51.100.20')
      .type('form')
      .send({ _csrf: token2, email: user.email, password: user.password });
    expect(ok.status).toBe(302);
  });
});
