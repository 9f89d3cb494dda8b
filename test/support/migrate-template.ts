// Run by global-setup in a child process: migrates the template database, then exits so that
// no connection to it stays open.
import pg from 'pg';
import pino from 'pino';
import { createDb } from '../../src/db/knex';
import { migrateLatest } from '../../src/db/migrate';
import { migrateWorker } from '../../src/jobs/worker';

async function main(): Promise<void> {
  const db = createDb(process.argv[2], { poolMax: 2 });
  const pool = new pg.Pool({ connectionString: process.argv[2], max: 2 });
  try {
    await migrateLatest(db, () => migrateWorker(pool, pino({ level: 'silent' })));
  } finally {
    await db.destroy();
    await pool.end();
  }
}

main().catch((err) => {
  console.error('Migrating the test template failed:', err);
  process.exit(1);
});
