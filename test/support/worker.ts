import { Logger, run, type Runner } from 'graphile-worker';
import pg from 'pg';
import pino from 'pino';
import { paths } from '../../src/app';
import { taskList } from '../../src/jobs/worker';
import type { DeliveryOptions } from '../../src/notifications/delivery';
import { smtpMailer, type Mailer } from '../../src/notifications/mailer';
import { createOutbox } from '../../src/notifications/outbox';
import type { TestContext } from './app';

/** Fast retries for tests: 50 ms, 100 ms, 200 ms… */
export const FAST_DELIVERY: DeliveryOptions = {
  backoffMs: 50,
  maxAttempts: 8,
  staleSendingMs: 2000,
};

export interface TestWorker {
  runner: Runner;
  mailer: Mailer;
  stop(): Promise<void>;
}

/** A mailer to the test SMTP server on loopback, configured as production would be. */
export function testSmtpMailer(ctx: TestContext, port: number): Mailer {
  return smtpMailer(ctx.config.email, {
    host: '127.0.0.1',
    port,
    secure: false,
    requireTLS: false,
    rejectUnauthorized: false,
  });
}

/** The app's job worker (email delivery, auto-close) on the test file's database. */
export async function startTestWorker(
  ctx: TestContext,
  smtpPort: number,
  delivery: DeliveryOptions = FAST_DELIVERY,
): Promise<TestWorker> {
  const pool = new pg.Pool({ connectionString: ctx.database.connectionString, max: 4 });
  pool.on('error', () => undefined);
  const mailer = testSmtpMailer(ctx, smtpPort);
  const silent = pino({ level: 'silent' });
  const runner = await run({
    pgPool: pool,
    taskList: taskList({
      db: ctx.db,
      logger: silent,
      clock: () => new Date(),
      autoCloseDays: ctx.config.autoCloseDays,
      mailer,
      outbox: createOutbox(ctx.config, paths.views),
      delivery,
    }),
    concurrency: 2,
    pollInterval: 100,
    noHandleSignals: true,
    logger: new Logger(() => () => undefined),
  });
  return {
    runner,
    mailer,
    stop: async () => {
      await runner.stop();
      mailer.close();
      await pool.end();
    },
  };
}
