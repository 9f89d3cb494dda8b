/**
 * `npm run seed:demo`: applies pending migrations, then loads the demo accounts and categories
 * of `seeds/demo.ts` into the configured database (the embedded PostgreSQL when DATABASE_URL
 * is unset; shared with a Guichet that is already running on it), prints the logins, and stops.
 *
 * Also runs from the sources: `npx tsx src/db/seed-cli.ts demo`.
 */
import path from 'node:path';
import { loadConfigOrExit } from '../config';
import { createLogger, prettyAvailable } from '../logger';
import { describeApplied, migrateLatest } from './migrate';
import { openForCli, runCli } from './cli';

const SEEDS = ['demo', 'bench'] as const;
type SeedName = (typeof SEEDS)[number];

const USAGE = `Usage: seed-cli <seed> [--tickets N]

  demo                 demo accounts (admin, technicians, employees) and categories; development only
  bench [--tickets N]  benchmark data: 2,022 accounts, 12 categories and N tickets with their
                       timelines (default 1,000,000), added with set-based SQL
`;

const out = (line: string) => process.stdout.write(`${line}\n`);

/** Works from the sources (tsx) and from the compiled `dist/` alike, like migrationConfig(). */
function seedConfig(name: SeedName) {
  const ext = path.extname(__filename);
  return {
    directory: path.resolve(__dirname, '..', '..', 'seeds'),
    loadExtensions: [ext],
    specific: `${name}${ext}`,
  };
}

function isSeedName(v: string | undefined): v is SeedName {
  return (SEEDS as readonly (string | undefined)[]).includes(v);
}

async function main(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const [name, ...rest] = args;
  let tickets = 1_000_000;
  if (name === 'bench' && rest[0] === '--tickets' && /^\d{1,8}$/.test(rest[1] ?? '')) {
    tickets = Number(rest[1]);
    rest.splice(0, 2);
  }
  if (!isSeedName(name) || rest.length) {
    process.stderr.write(
      `${name ? `Unknown seed or argument: ${args.join(' ')}` : 'Which seed?'}\n\n${USAGE}`,
    );
    return 2;
  }

  const config = loadConfigOrExit('Seeding');
  if (config.isProd) {
    // Every demo account shares a published password.
    process.stderr.write(
      'Refusing to load demo accounts with NODE_ENV=production: their password is public.\n',
    );
    return 1;
  }
  const logger = createLogger({
    level: config.logLevel,
    pretty: !!process.stdout.isTTY && prettyAvailable(),
  });

  const database = await openForCli(config, logger);
  try {
    const applied = await migrateLatest(database.db);
    out(describeApplied(applied));
    if (name === 'bench') {
      const { seedBench } = await import('../../seeds/bench');
      const started = Date.now();
      await seedBench(database.db, { tickets, log: out });
      out(`Benchmark data loaded in ${Math.round((Date.now() - started) / 1000)} s`);
      return 0;
    }
    await database.db.seed.run(seedConfig(name));
    out(
      `Seed "${name}" loaded. Start Guichet with \`npm start\` and log in at ${config.baseUrl}/login`,
    );
    return 0;
  } finally {
    await database.close();
  }
}

runCli(() => main(process.argv.slice(2)), 'Seeding failed');
