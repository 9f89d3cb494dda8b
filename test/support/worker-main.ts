// A Guichet job worker in a process of its own, for the tests that kill it mid-delivery:
//   tsx test/support/worker-main.ts <database url> <smtp port>
import { Logger, run } from 'graphile-worker';
import pg from 'pg';
import pino from 'pino';
import { paths } from '../../src/app';
import { createDb } from '../../src/db/knex';
import { taskList } from '../../src/jobs/worker';
import { smtpMailer } from '../../src/notifications/mailer';
import { createOutbox } from '../../src/notifications/outbox';
import { testConfig } from './app';
import { FAST_DELIVERY } from './worker';

async function main(): Promise<void> {
  const [url, port] = process.argv.slice(2);
  const config = testConfig();
  const db = createDb(url, { poolMax: 3 });
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  const mailer = smtpMailer(config.email, {
    host: '127.0.0.1',
    port: Number(port),
    secure: false,
    requireTLS: false,
    rejectUnauthorized: false,
  });
  await run({
    pgPool: pool,
    taskList: taskList({
      db,
      logger: pino({ level: 'silent' }),
      clock: () => new Date(),
      autoCloseDays: 7,
      mailer,
      outbox: createOutbox(config, paths.views),
      delivery: FAST_DELIVERY,
    }),
    concurrency: 1,
    pollInterval: 100,
    noHandleSignals: true,
    logger: new Logger(() => () => undefined),
  });
  process.stdout.write('worker ready\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
