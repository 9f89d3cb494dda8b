import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres';

declare global {
  var __GUICHET_EMBEDDED__: EmbeddedPostgres | undefined;
  var __GUICHET_TMP__: string | undefined;
}

/**
 * Starts the embedded PostgreSQL (unless TEST_DATABASE_URL names a server), then builds a
 * migrated template database that every test file clones. The template must have no open
 * connection when it is cloned, so migrations run in a child process that exits.
 */
export default async function globalSetup(): Promise<void> {
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'guichet-test-'));
    fs.chmodSync(tmp, 0o755);
    const embedded = await startEmbeddedPostgres({
      dataDir: path.join(tmp, 'postgres'),
      secretFile: path.join(tmp, 'secret'),
      settings: {
        fsync: 'off',
        synchronous_commit: 'off',
        full_page_writes: 'off',
        max_connections: '300',
      },
    });
    globalThis.__GUICHET_EMBEDDED__ = embedded;
    globalThis.__GUICHET_TMP__ = tmp;
    adminUrl = embedded.adminConnectionString;
  }
  const template = `guichet_tpl_${process.pid}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`drop database if exists ${template} with (force)`);
  await client.query(`create database ${template}`);
  await client.end();

  const url = new URL(adminUrl);
  url.pathname = `/${template}`;
  execFileSync(
    process.execPath,
    [require.resolve('tsx/cli'), path.join(__dirname, 'migrate-template.ts'), url.toString()],
    { stdio: 'inherit' },
  );
  process.env.GUICHET_TEST_ADMIN_URL = adminUrl;
  process.env.GUICHET_TEST_TEMPLATE = template;
}
