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
import { loadSettings } from '../settings/settings.repo';
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
    // Closes resolved tickets after the delay set on /admin/settings (AUTO_CLOSE_DAYS by
    // default); recorded as done by the system.
    auto_close_tickets: async () => {
      const { autoCloseDays } = await loadSettings(deps.db, { autoCloseDays: deps.autoCloseDays });
      const closed = await autoCloseResolved(deps.db, deps.clock(), autoCloseDays, deps.outbox);
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

async function startRunner(deps: JobDeps & { pgPool: pg.Pool }): Promise<Runner> {
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

/** The job queue running in this process. */
export interface JobRunner {
  stop(): Promise<void>;
}

const RESTART_DELAY_MS = 1000;

/**
 * Starts the job queue and keeps it running. graphile-worker 0.16 does not replace a worker
 * that died: when the database goes away while a job runs, the worker cannot record the job's
 * outcome, exits, and the process would run no job again (no email sent) until restarted. On
 * such a fatal error the runner is stopped and a new one started as soon as the database
 * answers; its start-up sweep queues the emails that were waiting.
 */
export async function startWorker(deps: JobDeps & { pgPool: pg.Pool }): Promise<JobRunner> {
  let runner = await startRunner(deps);
  let stopping = false;
  let restarting: Promise<void> | null = null;

  const restart = () => {
    restarting ??= (async () => {
      deps.logger.warn('a job worker lost the database; restarting the job queue');
      // A stop that waits on the database must not hold the restart forever.
      await Promise.race([
        runner.stop().catch(() => undefined),
        new Promise((r) => setTimeout(r, 10000).unref()),
      ]);
      while (!stopping) {
        try {
          runner = await startRunner(deps);
          watch(runner);
          deps.logger.info('job queue running again');
          break;
        } catch (err) {
          deps.logger.warn({ err }, 'job queue cannot start yet; trying again');
          await new Promise((r) => setTimeout(r, RESTART_DELAY_MS));
        }
      }
    })().finally(() => (restarting = null));
  };
  const watch = (r: Runner) =>
    r.events.on('worker:fatalError', () => {
      // The other worker of a runner already replaced may fail too: nothing more to do.
      if (!stopping && r === runner) restart();
    });
  watch(runner);

  return {
    async stop() {
      stopping = true;
      await restarting;
      await runner.stop();
    },
  };
}

/** Installs or upgrades the queue's own schema (`graphile_worker`). */
export async function migrateWorker(pgPool: pg.Pool, logger: Logger): Promise<void> {
  await runMigrations({ pgPool, logger: workerLogger(logger) });
}
