import pg from 'pg';
import pino from 'pino';
import request from 'supertest';
import { createApp } from '../../src/app';
import { createDb } from '../../src/db/knex';
import { testConfig } from '../support/app';
import { loginAs, newAgent } from '../support/agent';
import { createUser } from '../support/factories';
import { TcpProxy } from '../support/tcp-proxy';
import { createTestDatabase, type TestDatabase } from '../support/test-db';

let database: TestDatabase;
let proxy: TcpProxy;
let db: ReturnType<typeof createDb>;
let pool: pg.Pool;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = TcpProxy.for(database.connectionString);
  await proxy.up();
  const via = proxy.via(database.connectionString);
  db = createDb(via, { poolMax: 3 });
  pool = new pg.Pool({ connectionString: via, max: 2, connectionTimeoutMillis: 2000 });
  pool.on('error', () => undefined);
  app = createApp({
    config: testConfig(),
    db,
    sessionPool: pool,
    logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  await proxy.down();
  await db.destroy();
  await pool.end();
  await database.drop();
});

describe('health endpoints', () => {
  test('when the process is up, then /healthz answers 200 without touching a session', async () => {
    const res = await request(app).get('/healthz');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  test('when the database goes away and comes back, then readiness and pages follow without a restart', async () => {
    const user = await createUser(database.db);
    const agent = newAgent(app);
    await loginAs(agent, user);
    expect((await request(app).get('/readyz')).status).toBe(200);

    await proxy.down();
    try {
      const ready = await request(app).get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ status: 'unavailable', database: 'down' });
      const page = await agent.get('/account');
      expect(page.status).toBe(503);
      expect(page.text).toContain('La base de données ne répond pas');
      expect(page.text).not.toMatch(/ECONNREFUSED|at .*\.(js|ts):\d+/);
      expect((await request(app).get('/healthz')).status).toBe(200);
    } finally {
      await proxy.up();
    }

    const back = await request(app).get('/readyz');
    expect(back.status).toBe(200);
    const again = await agent.get('/account');
    expect(again.status).toBe(200);
  });
});
