// Run by global-setup in a child process: migrates the template database, then exits so that
// no connection to it stays open.
import { createDb } from '../../src/db/knex';
import { migrateLatest } from '../../src/db/migrate';

async function main(): Promise<void> {
  const db = createDb(process.argv[2], { poolMax: 2 });
  try {
    await migrateLatest(db);
  } finally {
    await db.destroy();
  }
}

main().catch((err) => {
  console.error('Migrating the test template failed:', err);
  process.exit(1);
});
