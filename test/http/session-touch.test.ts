import session from 'express-session';
import pg from 'pg';
import { pgSessionStore } from '../../src/http/session-store';
import { createTestContext, type TestContext } from '../support/app';
import { loginAs, newAgent, sessionCookie } from '../support/agent';
import { createUser } from '../support/factories';
import { TcpProxy } from '../support/tcp-proxy';
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

/** The app's session store on `pool`, as a promise of the session stored under a sid. */
function storeLookup(pool: pg.Pool): (sid: string) => Promise<unknown> {
  const store = pgSessionStore(session, {
    pool,
    tableName: 'session',
    createTableIfMissing: false,
    pruneSessionInterval: false,
  });
  return (sid) =>
    new Promise((resolve, reject) =>
      store.get(sid, (err, found) => (err ? reject(err) : resolve(found))),
    );
}

describe('session lookups as the table grows', () => {
  test('when sessions were looked up while there were few, then among thousands a lookup still goes straight to its row', async () => {
    const database = await createTestDatabase();
    // One connection: the store's statements and the plan read below are on the same one.
    const pool = new pg.Pool({ connectionString: database.connectionString, max: 1 });
    try {
      const get = storeLookup(pool);
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

describe('a session lookup whose connection is lost', () => {
  test('fails that lookup alone: the process goes on, and the next lookup gets a new connection', async () => {
    const database = await createTestDatabase();
    const proxy = TcpProxy.for(database.connectionString);
    await proxy.up();
    const pool = new pg.Pool({ connectionString: proxy.via(database.connectionString), max: 1 });
    // What the server does for idle connections.
    pool.on('error', () => undefined);
    try {
      const get = storeLookup(pool);
      expect(await get('nobody')).toBeFalsy();

      // A lookup held by a lock, its connection cut meanwhile (a database restart, a network
      // failure): the connection is out of the pool, in the store's hands, when it ends.
      const lookup = await database.db.transaction(async (trx) => {
        await trx.raw('lock table session in access exclusive mode');
        const pending = get('nobody').then(
          () => null,
          (err: Error) => err,
        );
        for (let i = 0; i < 100; i++) {
          const { rows } = await trx.raw(
            "select count(*)::int as n from pg_locks where not granted and relation = 'session'::regclass",
          );
          if (rows[0].n) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await proxy.down();
        return pending;
      });
      // An 'error' event nobody listens to would have been thrown (the process ends; here,
      // jest fails the test with "Unhandled error").
      expect(lookup).toBeInstanceOf(Error);
      await new Promise((r) => setTimeout(r, 100));

      await proxy.up();
      expect(await get('nobody')).toBeFalsy();
    } finally {
      await proxy.down();
      await pool.end();
      await database.drop();
    }
  });
});
