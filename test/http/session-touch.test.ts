import { createTestContext, type TestContext } from '../support/app';
import { loginAs, newAgent, sessionCookie } from '../support/agent';
import { createUser } from '../support/factories';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

describe('session expiry', () => {
  test('a page moves the idle expiry forward, but the database is written at most once a minute', async () => {
    const agent = newAgent(ctx.app);
    const login = await loginAs(agent, await createUser(ctx.db));
    const sid = decodeURIComponent(sessionCookie(login)!.replace('guichet.sid=', ''))
      .replace(/^s:/, '')
      .split('.')[0];
    const expiry = async () =>
      ((await ctx.db('session').where({ sid }).first()) as { expire: Date }).expire.getTime();

    // The store keeps whole seconds.
    const atLogin = await expiry();
    await new Promise((r) => setTimeout(r, 1100));
    expect((await agent.get('/account')).status).toBe(200);
    const afterFirstPage = await expiry();
    expect(afterFirstPage).toBeGreaterThan(atLogin);

    await new Promise((r) => setTimeout(r, 1100));
    expect((await agent.get('/account')).status).toBe(200);
    expect(await expiry()).toBe(afterFirstPage);
  });
});
