import crypto from 'node:crypto';
import pg from 'pg';
import { createDb } from '../../src/db/knex';
import { migrateLatest, rollbackAll } from '../../src/db/migrate';

async function admin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: process.env.GUICHET_TEST_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('migrations', () => {
  const name = `guichet_mig_${crypto.randomBytes(4).toString('hex')}`;
  let url: string;
  beforeAll(async () => {
    await admin(`create database ${name}`);
    const u = new URL(process.env.GUICHET_TEST_ADMIN_URL!);
    u.pathname = `/${name}`;
    url = u.toString();
  });
  afterAll(() => admin(`drop database if exists ${name} with (force)`));

  test('when three processes migrate one empty database at once, then all succeed and each migration runs once', async () => {
    const dbs = [createDb(url), createDb(url), createDb(url)];
    try {
      const results = await Promise.all(dbs.map((db) => migrateLatest(db)));
      const appliedCounts = results.map((r) => r.length).sort();
      expect(appliedCounts[0]).toBe(0);
      expect(appliedCounts[1]).toBe(0);
      expect(appliedCounts[2]).toBeGreaterThan(0);
      const rows = await dbs[0]('knex_migrations').select('name');
      expect(new Set(rows.map((r) => r.name)).size).toBe(rows.length);
      expect(rows.length).toBe(appliedCounts[2]);
    } finally {
      await Promise.all(dbs.map((db) => db.destroy()));
    }
  });

  test('when every migration is rolled back and applied again, then the schema comes back', async () => {
    const db = createDb(url);
    try {
      await rollbackAll(db);
      const tables = await db.raw(
        `select count(*)::int as n from information_schema.tables where table_schema = 'public' and table_name not like 'knex_%'`,
      );
      expect(tables.rows[0].n).toBe(0);
      const applied = await migrateLatest(db);
      expect(applied.length).toBeGreaterThan(0);
      expect(await db.schema.hasTable('users')).toBe(true);
    } finally {
      await db.destroy();
    }
  });
});
