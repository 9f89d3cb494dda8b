import path from 'node:path';
import type { Knex } from 'knex';

/** Any constant works; it only has to be the same for every Guichet process. */
const MIGRATION_LOCK_KEY = 4_711_202_611;

/** Works from the sources (tsx, jest) and from the compiled `dist/` alike. */
export function migrationConfig(): Knex.MigratorConfig {
  const ext = path.extname(__filename);
  return {
    directory: path.resolve(__dirname, '..', '..', 'migrations'),
    loadExtensions: [ext],
    tableName: 'knex_migrations',
  };
}

/**
 * Applies pending migrations under a PostgreSQL advisory lock: Knex's own lock makes a second
 * process fail instead of waiting, so processes started together queue here and the later
 * ones find nothing left to do.
 */
export async function migrateLatest(db: Knex): Promise<string[]> {
  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
    const [, applied] = (await db.migrate.latest(migrationConfig())) as [number, string[]];
    return applied;
  });
}

export async function rollbackAll(db: Knex): Promise<void> {
  await db.migrate.rollback(migrationConfig(), true);
}
