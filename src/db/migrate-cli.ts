/**
 * `npm run migrate`: applies pending migrations to the configured database (the embedded
 * PostgreSQL when DATABASE_URL is unset), prints what it applied, and stops.
 * `npm run migrate -- --rollback-all` undoes every migration, which drops all data.
 *
 * Also runs from the sources: `npx tsx src/db/migrate-cli.ts`.
 */
import type { Knex } from 'knex';
import { loadConfigOrExit } from '../config';
import { createLogger, prettyAvailable } from '../logger';
import { describeApplied, migrateLatest, migrationConfig, rollbackAll } from './migrate';
import { openForCli, runCli } from './cli';

const USAGE = `Usage: migrate-cli [--rollback-all [--force]]

  (no option)      apply every pending migration
  --rollback-all   undo every migration: drops all of Guichet's tables and data
                   (with NODE_ENV=production, also pass --force)
`;

const out = (line: string) => process.stdout.write(`${line}\n`);

async function completedMigrations(db: Knex): Promise<string[]> {
  const [completed] = (await db.migrate.list(migrationConfig())) as [{ name: string }[], unknown];
  return completed.map((m) => m.name);
}

async function main(args: string[]): Promise<number> {
  const known = new Set(['--rollback-all', '--force', '--help', '-h']);
  const unknown = args.filter((a) => !known.has(a));
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (unknown.length) {
    process.stderr.write(`Unknown argument: ${unknown.join(' ')}\n\n${USAGE}`);
    return 2;
  }
  const rollback = args.includes('--rollback-all');

  const config = loadConfigOrExit('Migrations');
  if (rollback && config.isProd && !args.includes('--force')) {
    process.stderr.write(
      'Refusing to roll back every migration with NODE_ENV=production: it drops all data. ' +
        'Pass --force as well if that is really what you want.\n',
    );
    return 1;
  }
  const logger = createLogger({
    level: config.logLevel,
    pretty: !config.isProd && !!process.stdout.isTTY && prettyAvailable(),
  });

  const database = await openForCli(config, logger);
  try {
    if (rollback) {
      const before = await completedMigrations(database.db);
      await rollbackAll(database.db);
      out(
        before.length
          ? `Rolled back ${before.length} migration(s): ${before.reverse().join(', ')}`
          : 'Nothing to roll back: no migration was applied',
      );
    } else {
      const applied = await migrateLatest(database.db);
      out(describeApplied(applied));
    }
    return 0;
  } finally {
    await database.close();
  }
}

runCli(() => main(process.argv.slice(2)), 'Migration failed');
