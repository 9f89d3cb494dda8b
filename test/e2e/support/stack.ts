/**
 * The real product for one browser test file: `node dist/src/server.js` on a throw-away
 * database cloned from the migrated template (no user yet, so the log prints the first-run
 * URL), delivering its emails over SMTP to a TestSmtpServer on loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { TestSmtpServer } from '../../support/smtp';
import { createTestDatabase, type TestDatabase } from '../../support/test-db';
import { anyFreePort } from '../../../src/ports';

const REPO = path.resolve(__dirname, '..', '..', '..');
const SERVER_ENTRY = path.join(REPO, 'dist', 'src', 'server.js');

export interface Stack {
  /** APP_URL: what the browser opens and what the emails link to. */
  baseUrl: string;
  /** The one-time first-run URL printed in the log. */
  setupUrl: string;
  smtp: TestSmtpServer;
  /** The app's database, for arranging data (users, categories) the way factories do. */
  db: Knex;
  logs(): string;
  stop(): Promise<void>;
}

const SETUP_URL = /(https?:\/\/[^\s"]+\/setup\?token=[\w-]+)/;
const READY = /Guichet ready on /;

/** Waits for the server's log to say it listens; fails with the log if it exits or stalls. */
function waitForReady(child: ChildProcess, output: () => string, timeoutMs: number) {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Guichet was not ready within ${timeoutMs} ms:\n${output()}`));
    }, timeoutMs);
    const onData = () => {
      if (READY.test(output())) {
        cleanup();
        resolve();
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`Guichet exited with ${code} while starting:\n${output()}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
  });
}

export async function startStack(env: Record<string, string> = {}): Promise<Stack> {
  const smtp = await new TestSmtpServer().start();
  let database: TestDatabase | null = null;
  let child: ChildProcess | null = null;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'guichet-e2e-'));
  const cleanup = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      const force = setTimeout(() => child!.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(force);
    }
    await database?.drop();
    await smtp.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    database = await createTestDatabase();
    const port = await anyFreePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    let output = '';
    child = spawn(process.execPath, [SERVER_ENTRY], {
      // A temp working directory: no developer `.env` is read.
      cwd: dataDir,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        APP_URL: baseUrl,
        DATABASE_URL: database.connectionString,
        SECRET_KEY: crypto.randomBytes(32).toString('hex'),
        DATA_DIR: dataDir,
        LOG_LEVEL: 'info',
        DEFAULT_LOCALE: 'fr',
        TZ: 'Europe/Paris',
        EMAIL_ENABLED: 'true',
        SMTP_SERVER: '127.0.0.1',
        SMTP_PORT: String(smtp.port),
        USE_TLS: 'false',
        VERIFY_SSL: 'false',
        SENDER_EMAIL: 'guichet@example.com',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (b: Buffer) => (output = (output + b.toString()).slice(-200000));
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    await waitForReady(child, () => output, 60000);
    const setupUrl = SETUP_URL.exec(output)?.[1];
    if (!setupUrl) throw new Error(`No first-run URL in the log:\n${output}`);
    return {
      baseUrl,
      setupUrl,
      smtp,
      db: database.db,
      logs: () => output,
      stop: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
