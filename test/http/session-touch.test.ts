import session from 'express-session';
import pg from 'pg';
import { pgSessionStore } from '../../src/http/session-store';
import { createTestContext, type TestContext } from '../support/app';
import { loginAs, newAgent, sessionCookie } from '../support/agent';
import { createUser } from '../support/factories';
import { createTestDatabase } from '../support/test-db';

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

describe('session lookups as the table grows', () => {
  test('when sessions were looked up while there were few, then among thousands a lookup still goes straight to its row', async () => {
    const database = await createTestDatabase();
    // One connection: the store's statements and the plan read below are on the same one.
    const pool = new pg.Pool({ connectionString: database.connectionString, max: 1 });
    try {
      const store = pgSessionStore(session, {
        pool,
        tableName: 'session',
        createTableIfMissing: false,
        pruneSessionInterval: false,
      });
      const get = (sid: string) =>
        new Promise((resolve, reject) =>
          store.get(sid, (err, found) => (err ? reject(err) : resolve(found))),
        );
      // Statistics that saw the table empty (ANALYZE after a restore, or after a purge), then
      // more lookups than the five PostgreSQL plans for their values: the statement keeps a
      // plan of its own, made for an empty table.
      await database.db.raw('analyze session');
      for (let i = 0; i < 8; i++) expect(await get('nobody')).toBeFalsy();
      await database.db.raw(
        `insert into session (sid, sess, expire)
         select 'sid-' || g, '{"cookie":{}}', now() + interval '1 day'
           from generate_series(1, 5000) g`,
      );
      expect(await get('sid-4321')).toEqual({ cookie: {} });

      const { rows } = await pool.query<{ name: string }>(
        `select name from pg_prepared_statements where statement like 'SELECT sess FROM%'`,
      );
      expect(rows).toHaveLength(1);
      const plan = await pool.query<{ 'QUERY PLAN': string }>(
        `explain execute ${rows[0].name}('sid-1', 0)`,
      );
      const text = plan.rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(text).toContain('Index Scan using session_pkey');
      expect(text).not.toContain('Seq Scan');
    } finally {
      await pool.end();
      await database.drop();
    }
  });
});
