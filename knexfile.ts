/**
 * For the Knex CLI (`npx knex migrate:status`…) against DATABASE_URL. The app itself runs
 * migrations at start-up through src/db/migrate.ts.
 */
import type { Knex } from 'knex';

const config: Knex.Config = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: { directory: './migrations', extension: 'ts', tableName: 'knex_migrations' },
  seeds: { directory: './seeds', extension: 'ts' },
};

export default config;
