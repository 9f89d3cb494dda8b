import {
  Logger as WorkerLogger,
  run,
  runMigrations,
  type Runner,
  type TaskList,
} from 'graphile-worker';
import type { Knex } from 'knex';
import type pg from 'pg';
import type { Logger } from '../logger';
import {
  DEFAULT_DELIVERY,
  deliverKey,
  sweep,
  type DeliveryOptions,
} from '../notifications/delivery';
import type { Mailer } from '../notifications/mailer';
import type { Outbox } from '../notifications/outbox';
import { autoCloseResolved } from '../tickets/tickets.service';

export interface JobDeps {
  db: Knex;
  logger: Logger;
  clock: () => Date;
  autoCloseDays: number;
  mailer: Mailer;
  outbox: Outbox;
  delivery?: DeliveryOptions;
}

/**
 * Background work runs from graphile-worker's PostgreSQL queue inside the app process: any
 * number of processes share it (jobs are taken with SKIP LOCKED, cron runs once per tick
 * across all of them), and nothing else needs to run beside the app.
 */
export function taskList(deps: JobDeps): TaskList {
  return {
    // Closes resolved tickets after AUTO_CLOSE_DAYS; recorded as done by the system.
    auto_close_tickets: async () => {
      const closed = await autoCloseResolved(
        deps.db,
        deps.clock(),
        deps.autoCloseDays,
        deps.outbox,
      );
      if (closed.length)
        deps.logger.info({ tickets: closed }, `auto-closed ${closed.length} resolved ticket(s)`);
    },
    // Sends the emails of one ticket (or one account email), in order.
    deliver_mail: async (payload) => {
      const key = (payload as { key?: unknown })?.key;
      if (typeof key !== 'string') return;
      await deliverKey(deps.db, deps.mailer, key, deps.logger, deps.delivery ?? DEFAULT_DELIVERY);
    },
    // Old rows nobody needs: expired throttle counters, used or expired password links.
    housekeeping: async () => {
      await deps.db('rate_limits').where('expire', '<', Date.now()).delete();
      await deps
        .db('password_tokens')
        .where('expires_at', '<', deps.db.raw("now() - interval '30 days'"))
        .delete();
    },
    // Re-queues deliveries whose job was lost or whose process died while sending.
    mail_sweeper: async () => {
      await sweep(deps.db, deps.delivery ?? DEFAULT_DELIVERY);
    },
  };
}

/**
 * Auto-close every 15 minutes (a missed tick, all processes down, is caught up within the
 * hour), the mail sweeper every minute, housekeeping hourly.
 */
export const CRONTAB = [
  '*/15 * * * * auto_close_tickets ?fill=1h',
  '* * * * * mail_sweeper',
  '17 * * * * housekeeping',
].join('\n');

function workerLogger(logger: Logger): WorkerLogger {
  return new WorkerLogger(() => (level, message, meta) => {
    const target = level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'debug';
    logger[target]({ worker: meta }, message);
  });
}

export async function startWorker(deps: JobDeps & { pgPool: pg.Pool }): Promise<Runner> {
  const runner = await run({
    pgPool: deps.pgPool,
    taskList: taskList(deps),
    crontab: CRONTAB,
    concurrency: 2,
    pollInterval: 2000,
    noHandleSignals: true,
    logger: workerLogger(deps.logger),
  });
  // Whatever was left undelivered when the last process stopped goes out now.
  await runner.addJob('mail_sweeper', {}, { jobKey: 'mail_sweeper_startup' });
  return runner;
}

/** Installs or upgrades the queue's own schema (`graphile_worker`). */
export async function migrateWorker(pgPool: pg.Pool, logger: Logger): Promise<void> {
  await runMigrations({ pgPool, logger: workerLogger(logger) });
}
