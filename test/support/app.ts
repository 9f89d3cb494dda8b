import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import type { Knex } from 'knex';
import pg from 'pg';
import pino from 'pino';
import { createApp, type AppDeps } from '../../src/app';
import { loadConfig, type Config, type Env } from '../../src/config';
import { createTestDatabase, type TestDatabase } from './test-db';

export const TEST_BASE_URL = 'http://guichet.test';

export interface TestContext {
  app: Express;
  db: Knex;
  config: Config;
  database: TestDatabase;
  sessionPool: pg.Pool;
  close(): Promise<void>;
}

export function testConfig(env: Env = {}): Config {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'guichet-data-'));
  return loadConfig(
    {
      NODE_ENV: 'test',
      SECRET_KEY: 'test-secret-key-that-is-long-enough-0123456789',
      APP_URL: TEST_BASE_URL,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      DEFAULT_LOCALE: 'fr',
      TZ: 'Europe/Paris',
      ...env,
    },
    os.tmpdir(),
  );
}

/** A real app on a database of its own; call `close()` in afterAll. */
export async function createTestContext(
  opts: { env?: Env; deps?: Partial<AppDeps>; connectionString?: string } = {},
): Promise<TestContext> {
  const database = await createTestDatabase();
  const config = testConfig(opts.env);
  const sessionPool = new pg.Pool({
    connectionString: opts.connectionString ?? database.connectionString,
    max: 3,
  });
  sessionPool.on('error', () => undefined);
  const app = createApp({
    config,
    db: database.db,
    sessionPool,
    logger: pino({ level: 'silent' }),
    ...opts.deps,
  });
  return {
    app,
    db: database.db,
    config,
    database,
    sessionPool,
    close: async () => {
      await sessionPool.end();
      await database.drop();
      fs.rmSync(config.dataDir, { recursive: true, force: true });
    },
  };
}
