import path from 'node:path';
import type { Knex } from 'knex';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres';
import { createDb } from './knex';

export interface Database {
  db: Knex;
  connectionString: string;
  ssl: boolean | { rejectUnauthorized: boolean };
  embedded: EmbeddedPostgres | null;
  close(): Promise<void>;
}

const knexLog = (logger: Logger) => (message: string) => logger.warn({ knex: message }, 'database');

/** Connects to the configured PostgreSQL, or starts the embedded one. */
export async function openDatabase(config: Config, logger: Logger): Promise<Database> {
  const target = config.database;
  const pool = { poolMax: config.databasePoolSize, log: knexLog(logger) };
  if (target.kind === 'external') {
    const db = createDb(target.connectionString, { ...pool, ssl: target.ssl });
    return {
      db,
      connectionString: target.connectionString,
      ssl: target.ssl,
      embedded: null,
      close: () => db.destroy(),
    };
  }
  const started = Date.now();
  const embedded = await startEmbeddedPostgres({
    dataDir: target.dataDir,
    secretFile: path.join(config.dataDir, 'embedded-postgres.secret'),
    log: (line) => logger.debug({ postgres: line }, 'embedded postgres'),
  });
  const where = path.relative(process.cwd(), target.dataDir) || target.dataDir;
  logger.info(
    embedded.shared
      ? `Using the embedded PostgreSQL already running on 127.0.0.1:${embedded.port} (data in ${where})`
      : `Embedded PostgreSQL ${embedded.version} on 127.0.0.1:${embedded.port}, data in ${where}` +
          `${embedded.created ? ' (created)' : ''}, ready in ${Date.now() - started} ms; set DATABASE_URL to use your own server`,
  );
  const db = createDb(embedded.connectionString, pool);
  return {
    db,
    connectionString: embedded.connectionString,
    ssl: false,
    embedded,
    close: async () => {
      await db.destroy();
      await embedded.stop();
    },
  };
}
