import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import pg from 'pg';
import { createApp, paths } from './app';
import { prepareFirstRun } from './auth/auth.service';
import { type Config, loadConfigOrExit } from './config';
import { openDatabase } from './db/database';
import { describeApplied, migrateLatest } from './db/migrate';
import { migrateWorker, startWorker, type JobRunner } from './jobs/worker';
import { createLogger, prettyAvailable, type Logger } from './logger';
import { createMailer } from './notifications/mailer';
import { createOutbox } from './notifications/outbox';
import { expressServer, type AppServer } from './http/server';

/** Development keeps one random secret per data directory, so sessions survive restarts. */
function developmentSecret(config: Config): string {
  const file = path.join(config.dataDir, 'secret-key');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const secret = crypto.randomBytes(32).toString('hex');
  fs.mkdirSync(config.dataDir, { recursive: true });
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/**
 * Under the heap limit production runs with (--max-old-space-size=192), V8 starts a full
 * collection as soon as the heap is 1.3 times what the last one kept: with pages allocating
 * ~0.5 MB each, that was several full collections a second under load, a fifth of the CPU.
 * Letting the heap grow to three times what survived halves the collector's share; the heap
 * limit still bounds memory (peak RSS stays under 250 MB, `npm run bench`).
 */
function tuneGarbageCollector(): void {
  v8.setFlagsFromString('--heap-growing-percent=200');
}

/** How long a stop waits for the requests in progress (the systemd units and Compose allow 20 s). */
const SHUTDOWN_GRACE_MS = 10_000;

async function main(): Promise<void> {
  tuneGarbageCollector();
  const started = Date.now();
  const base = loadConfigOrExit();
  const logger: Logger = createLogger({
    level: base.logLevel,
    pretty: !base.isProd && !!process.stdout.isTTY && prettyAvailable(),
  });
  const config: Config = Object.freeze({
    ...base,
    secretKey: base.secretKey ?? developmentSecret(base),
  });

  const database = await openDatabase(config, logger);
  const { db } = database;
  let stopping = false;
  let server: AppServer | null = null;
  const sessionPool = new pg.Pool({
    connectionString: database.connectionString,
    ssl: database.ssl || undefined,
    // One short lookup a page, where a page makes two queries or more through the app's pool.
    max: Math.ceil(config.databasePoolSize / 2),
  });
  const workerPool = new pg.Pool({
    connectionString: database.connectionString,
    ssl: database.ssl || undefined,
    max: 4,
  });
  // An idle connection dropped by a database restart must not crash the process.
  for (const pool of [sessionPool, workerPool]) {
    pool.on('error', (err) => logger.warn({ err: err.message }, 'database connection lost'));
  }
  let worker: JobRunner | null = null;
  const mailer = createMailer(config, logger);
  const outbox = createOutbox(config, paths.views);

  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal} received, shutting down`);
    const stoppingAt = Date.now();
    const force = setTimeout(() => {
      logger.warn(
        `in-flight requests did not finish within ${SHUTDOWN_GRACE_MS / 1000} s; closing anyway`,
      );
      server?.closeAllConnections();
    }, SHUTDOWN_GRACE_MS);
    force.unref();
    if (server) {
      const closed = new Promise<void>((resolve) => server!.close(() => resolve()));
      server.closeIdleConnections();
      // Every request answered first, those whose client has gone included: their handlers
      // still use the database, which closes below. Then the connections they leave idle.
      await server.handled(stoppingAt + SHUTDOWN_GRACE_MS);
      server.closeIdleConnections();
      await closed;
    }
    await worker?.stop().catch((err) => logger.error({ err }, 'stopping the job worker failed'));
    await workerPool.end().catch(() => undefined);
    mailer.close();
    await sessionPool.end().catch(() => undefined);
    await database.close().catch((err) => logger.error({ err }, 'closing the database failed'));
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  try {
    const applied = await migrateLatest(db, () => migrateWorker(workerPool, logger));
    logger.info(describeApplied(applied));
    await prepareFirstRun(db, config, logger);
    worker = await startWorker({
      db,
      logger,
      pgPool: workerPool,
      clock: () => new Date(),
      autoCloseDays: config.autoCloseDays,
      mailer,
      outbox,
    });
  } catch (err) {
    logger.fatal({ err }, 'database preparation failed');
    await database.close().catch(() => undefined);
    process.exit(1);
  }

  const app = createApp({ config, db, sessionPool, logger, mailer, outbox });
  server = expressServer(app);
  server.keepAliveTimeout = 65000;
  server.on('error', async (err: NodeJS.ErrnoException) => {
    logger.fatal(
      err.code === 'EADDRINUSE'
        ? `Port ${config.port} is already in use: stop the other program or set PORT`
        : { err },
      'cannot listen',
    );
    await database.close().catch(() => undefined);
    process.exit(1);
  });
  server.listen(config.port, config.host, () => {
    logger.info(
      `Guichet ready on ${config.baseUrl} (listening on ${config.host}:${config.port}, started in ${Date.now() - started} ms)`,
    );
  });
}

main().catch((err) => {
  process.stderr.write(
    `Guichet failed to start: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
