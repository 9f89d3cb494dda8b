import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';

/** Any constant works; it only has to be the same for every Guichet process. */
const MIGRATION_LOCK_KEY = 4_711_202_611;

interface MigrationFile {
  name: string;
  file: string;
}

/**
 * Lists migrations by name without their extension, so a database migrated by the compiled
 * app (`.js`) and one migrated from the sources (`.ts`: tsx, jest, the Knex CLI) agree.
 */
class ExtensionlessSource implements Knex.MigrationSource<MigrationFile> {
  constructor(
    private readonly directory: string,
    private readonly ext: string,
  ) {}

  async getMigrations(): Promise<MigrationFile[]> {
    return fs
      .readdirSync(this.directory)
      .filter((f) => f.endsWith(this.ext) && !f.endsWith(`.d${this.ext}`))
      .sort()
      .map((f) => ({ name: path.basename(f, this.ext), file: path.join(this.directory, f) }));
  }

  getMigrationName(m: MigrationFile): string {
    return m.name;
  }

  async getMigration(m: MigrationFile): Promise<Knex.Migration> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- migrations are CommonJS modules found at run time
    return require(m.file) as Knex.Migration;
  }
}

/** Works from the sources (tsx, jest) and from the compiled `dist/` alike. */
export function migrationConfig(): Knex.MigratorConfig {
  return {
    migrationSource: new ExtensionlessSource(
      path.resolve(__dirname, '..', '..', 'migrations'),
      path.extname(__filename),
    ),
    tableName: 'knex_migrations',
  };
}

/**
 * Applies pending migrations under a PostgreSQL advisory lock: Knex's own lock makes a second
 * process fail instead of waiting, so processes started together queue here and the later
 * ones find nothing left to do.
 */
export async function migrateLatest(
  db: Knex,
  /** More schema work under the same lock: the job queue's own migrations. */
  alsoUnderLock?: () => Promise<void>,
): Promise<string[]> {
  return db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
    const [, applied] = (await db.migrate.latest(migrationConfig())) as [number, string[]];
    await alsoUnderLock?.();
    return applied;
  });
}

export async function rollbackAll(db: Knex): Promise<void> {
  await db.migrate.rollback(migrationConfig(), true);
}

/** One log line for what `migrateLatest` did. */
export function describeApplied(applied: string[]): string {
  return applied.length
    ? `Applied ${applied.length} migration(s): ${applied.join(', ')}`
    : 'Database schema is up to date';
}
