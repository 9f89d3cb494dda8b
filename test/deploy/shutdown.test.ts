/**
 * Stopping the built server while requests are still being handled after their clients left
 * (a browser closed, a proxy that gave up): each one finishes its work before the database
 * pools close, and nothing fails half-way.
 */
import pg from 'pg';
import { anyFreePort } from '../../src/ports';
import {
  SECRET_KEY,
  createDatabase,
  requireTools,
  sleep,
  startGuichet,
  type GuichetProcess,
  type ThrowAwayDb,
} from './support';

const skip = requireTools([], { pg: true });
/** The app's pool (DATABASE_POOL_SIZE), set here rather than left to the machine's cores. */
const POOL = 4;
/** More than the app's pool: some requests wait for a connection. */
const REQUESTS = POOL + 2;

(skip ? describe.skip : describe)(`stopping the server${skip ? ` (${skip})` : ''}`, () => {
  let database: ThrowAwayDb;
  let app: GuichetProcess;

  beforeAll(async () => {
    database = await createDatabase('shutdown');
    const port = await anyFreePort();
    app = await startGuichet({
      port,
      env: {
        NODE_ENV: 'production',
        DATABASE_URL: database.url,
        APP_URL: `http://127.0.0.1:${port}`,
        SECRET_KEY,
        DATABASE_POOL_SIZE: String(POOL),
      },
    });
  });

  afterAll(async () => {
    await app?.stop().catch(() => undefined);
    await database?.drop();
  });

  test('requests whose clients left finish before the database pools close', async () => {
    // Login forms, each with its own session and token.
    const forms = await Promise.all(
      Array.from({ length: REQUESTS }, async () => {
        const page = await fetch(`${app.base}/login`);
        const cookie = page.headers.getSetCookie()[0].split(';')[0];
        const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1];
        return { cookie, token };
      }),
    );
    // The login throttle's table locked: each login waits on its first query.
    const lock = new pg.Client({ connectionString: database.url });
    await lock.connect();
    await lock.query('begin');
    await lock.query('lock table rate_limits in access exclusive mode');
    // pg_locks, not pg_stat_activity: inside a transaction the latter is a snapshot.
    const waiting = async () =>
      (
        await lock.query<{ n: number }>(
          "select count(*)::int as n from pg_locks where not granted and relation = 'rate_limits'::regclass",
        )
      ).rows[0].n;
    expect(await waiting()).toBe(0);

    const aborts = forms.map(({ cookie, token }) => {
      const controller = new AbortController();
      const sent = fetch(`${app.base}/login`, {
        method: 'POST',
        redirect: 'manual',
        signal: controller.signal,
        headers: {
          cookie,
          origin: app.base,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          _csrf: token,
          email: 'nobody@example.com',
          password: 'not the password',
        }),
      }).catch(() => undefined);
      return { controller, sent };
    });
    // Every request is in the app: the pool's connections blocked on the lock, the rest
    // waiting for one.
    for (let i = 0; i < 60 && (await waiting()) < POOL; i++) await sleep(50);
    expect(await waiting()).toBe(POOL);
    for (const a of aborts) a.controller.abort();
    await Promise.all(aborts.map((a) => a.sent));

    const exited = app.stop('SIGTERM');
    await sleep(500);
    await lock.query('commit');
    await lock.end();
    expect(await exited).toBe(0);

    const logs = app.logs();
    expect(logs).toContain('stopped');
    expect(logs).not.toMatch(/"level":(50|60)/);
    expect(logs).not.toContain('aborted');
    // Each login reached its end: a wrong password is counted as a failure.
    const counted = new pg.Client({ connectionString: database.url });
    await counted.connect();
    const failures = await counted.query<{ n: number }>(
      "select coalesce(sum(points), 0)::int as n from rate_limits where key like 'login:address:%'",
    );
    await counted.end();
    expect(failures.rows[0].n).toBe(REQUESTS);
  });
});
