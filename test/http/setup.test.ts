import pino from 'pino';
import { prepareFirstRun } from '../../src/auth/auth.service';
import { createTestContext, TEST_BASE_URL, type TestContext } from '../support/app';
import { newAgent, postForm } from '../support/agent';
import { createUser } from '../support/factories';

const silent = pino({ level: 'silent' });

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());
beforeEach(async () => {
  await ctx.db('setup_tokens').delete();
  await ctx.db('users').delete();
});

function tokenOf(url: string | null): string {
  return new URL(url!).searchParams.get('token')!;
}

describe('first run', () => {
  test('when no user exists, then the logged URL creates the first admin, who lands logged in', async () => {
    const url = await prepareFirstRun(ctx.db, { baseUrl: TEST_BASE_URL, firstAdmin: null }, silent);
    expect(url).toMatch(new RegExp(`^${TEST_BASE_URL}/setup\\?token=[\\w-]{20,}$`));
    const token = tokenOf(url);
    const agent = newAgent(ctx.app);
    const page = await agent.get(`/setup?token=${token}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Premier démarrage');

    const res = await postForm(
      agent,
      '/setup',
      {
        token,
        name: 'Alex Admin',
        email: 'Alex@Example.com',
        password: 'a-long-password',
        password_confirm: 'a-long-password',
      },
      { from: `/setup?token=${token}` },
    );

    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/admin/users');
    const admin = await ctx.db('users').first();
    expect(admin).toMatchObject({ email: 'alex@example.com', role: 'admin', active: true });
    const list = await agent.get('/admin/users');
    expect(list.status).toBe(200);
    expect(list.text).toContain('Alex Admin');
    expect(await ctx.db('setup_tokens').count('* as n').first()).toEqual({ n: 0 });
  });

  test('when the token is wrong or missing, then the page does not exist', async () => {
    await prepareFirstRun(ctx.db, { baseUrl: TEST_BASE_URL, firstAdmin: null }, silent);
    const agent = newAgent(ctx.app);
    expect((await agent.get('/setup')).status).toBe(404);
    expect((await agent.get('/setup?token=not-the-right-token-at-all')).status).toBe(404);
  });

  test('when an admin exists, then even a valid token answers 404', async () => {
    const url = await prepareFirstRun(ctx.db, { baseUrl: TEST_BASE_URL, firstAdmin: null }, silent);
    await createUser(ctx.db, { role: 'admin' });
    expect((await newAgent(ctx.app).get(`/setup?token=${tokenOf(url)}`)).status).toBe(404);
  });

  test('when the form has errors, then it is shown again with the input kept', async () => {
    const token = tokenOf(
      await prepareFirstRun(ctx.db, { baseUrl: TEST_BASE_URL, firstAdmin: null }, silent),
    );
    const agent = newAgent(ctx.app);
    const res = await postForm(
      agent,
      '/setup',
      { token, name: 'Alex', email: 'not-an-email', password: 'short', password_confirm: 'other' },
      { from: `/setup?token=${token}` },
    );
    expect(res.status).toBe(422);
    expect(res.text).toContain('value="Alex"');
    expect(res.text).toContain('value="not-an-email"');
    expect(res.text).toContain('Saisissez une adresse e-mail valide');
    expect(res.text).toContain('au moins 10 caractères');
    expect(res.text).toContain('ne correspondent pas');
    expect(await ctx.db('users').count('* as n').first()).toEqual({ n: 0 });
  });

  test('when ADMIN_EMAIL and ADMIN_PASSWORD are set, then the admin is created without a token', async () => {
    const url = await prepareFirstRun(
      ctx.db,
      {
        baseUrl: TEST_BASE_URL,
        firstAdmin: { email: 'Boss@Example.com', password: 'boss-password-1' },
      },
      silent,
    );
    expect(url).toBeNull();
    const admin = await ctx.db('users').first();
    expect(admin).toMatchObject({ email: 'boss@example.com', role: 'admin' });
    const res = await postForm(newAgent(ctx.app), '/login', {
      email: 'boss@example.com',
      password: 'boss-password-1',
    });
    expect(res.status).toBe(302);
  });

  test('when users exist, then no setup URL is printed', async () => {
    await createUser(ctx.db);
    expect(
      await prepareFirstRun(ctx.db, { baseUrl: TEST_BASE_URL, firstAdmin: null }, silent),
    ).toBeNull();
  });
});
