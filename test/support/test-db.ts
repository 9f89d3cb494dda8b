import crypto from 'node:crypto';
import type { Knex } from 'knex';
import pg from 'pg';
import { createDb } from '../../src/db/knex';

export interface TestDatabase {
  name: string;
  connectionString: string;
  db: Knex;
  drop(): Promise<void>;
}

function adminUrl(): string {
  const url = process.env.GUICHET_TEST_ADMIN_URL;
  if (!url) throw new Error('GUICHET_TEST_ADMIN_URL is unset: run the tests through jest');
  return url;
}

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A database of its own for one test file, cloned from the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `guichet_t_${process.env.JEST_WORKER_ID ?? '0'}_${crypto.randomBytes(4).toString('hex')}`;
  const template = process.env.GUICHET_TEST_TEMPLATE!;
  for (let attempt = 0; ; attempt++) {
    try {
      await admin((c) => c.query(`create database ${name} template ${template}`));
      break;
    } catch (err) {
      // Two clones at the same instant can collide on the template; try again shortly.
      if (attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  const connectionString = url.toString();
  const db = createDb(connectionString, { poolMax: 5 });
  return {
    name,
    connectionString,
    db,
    drop: async () => {
      await db.destroy();
      await admin((c) => c.query(`drop database if exists ${name} with (force)`));
    },
  };
}
