/** Shared helpers of the deployment suite: tools, temp dirs, PostgreSQL, Guichet processes. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startGuichet as startProcess } from '../support/guichet-process';

export const REPO = path.resolve(__dirname, '..', '..');
export const ADMIN_URL =
  process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
/** 64 characters, as `openssl rand -hex 32` gives. */
export const SECRET_KEY = crypto.randomBytes(32).toString('hex');

/** Whether a command is on PATH. */
export function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Decides whether a group of tests runs: every tool present → run; otherwise skip, with the
 * reason in the test names (jest prints them), or fail under DEPLOY_TESTS_REQUIRE_ALL=1.
 */
export function requireTools(tools: string[], extra: { pg?: boolean } = {}): string | null {
  const missing = tools.filter((t) => !have(t)).map((t) => `${t} is not installed`);
  if (extra.pg && !postgresReachable())
    missing.push(`no PostgreSQL answers at ${redact(ADMIN_URL)}`);
  if (!missing.length) return null;
  const reason = `SKIPPED: ${missing.join(', ')}`;
  if (process.env.DEPLOY_TESTS_REQUIRE_ALL === '1') {
    throw new Error(`${reason} (DEPLOY_TESTS_REQUIRE_ALL=1 forbids skipping)`);
  }
  process.stderr.write(`\n*** ${reason} ***\n`);
  return reason;
}

export function redact(url: string): string {
  return url.replace(/(:\/\/[^:/@]*):[^@]*@/, '$1:***@');
}

let pgProbe: boolean | undefined;
/** Synchronous probe, so that describe/skip can be decided at load time. */
export function postgresReachable(): boolean {
  if (pgProbe !== undefined) return pgProbe;
  const script =
    "const pg=require('pg');const c=new pg.Client({connectionString:process.argv[1],connectionTimeoutMillis:3000});" +
    'c.connect().then(()=>c.end()).then(()=>process.exit(0),()=>process.exit(1))';
  pgProbe =
    spawnSync(process.execPath, ['-e', script, ADMIN_URL], { cwd: REPO, timeout: 10000 }).status ===
    0;
  return pgProbe;
}

export function tmpDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `guichet-${prefix}-`));
  // Readable by the unprivileged users some tests switch to (nginx workers, uid 1000).
  fs.chmodSync(dir, 0o755);
  return dir;
}

/** Removes a temp dir unless DEPLOY_TESTS_KEEP=1 (to inspect a failure). */
export function removeTmp(dir: string): void {
  if (process.env.DEPLOY_TESTS_KEEP === '1') return;
  fs.rmSync(dir, { recursive: true, force: true });
}

export interface Run extends SpawnSyncReturns<string> {
  out: string;
}

/** Runs a command to completion; `out` is stdout + stderr for messages. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number; input?: string } = {},
): Run {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd ?? REPO,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    timeout: opts.timeout ?? 60000,
    input: opts.input,
    maxBuffer: 64 * 1024 * 1024,
  });
  return Object.assign(r, { out: `${r.stdout ?? ''}${r.stderr ?? ''}` });
}

/** A minimal environment: nothing of the caller's Guichet variables leaks in. */
export function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/root',
    LANG: 'C.UTF-8',
    ...extra,
  };
}

export async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>, url = ADMIN_URL): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface ThrowAwayDb {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** An empty database on the test server, dropped (WITH FORCE) by drop(). */
export async function createDatabase(label: string): Promise<ThrowAwayDb> {
  const name = `guichet_deploy_${label}_${crypto.randomBytes(4).toString('hex')}`;
  await withAdmin((c) => c.query(`create database ${name}`));
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return {
    name,
    url: u.toString(),
    drop: () => withAdmin((c) => c.query(`drop database if exists ${name} with (force)`)).then(),
  };
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export async function httpGet(
  url: string,
  timeoutMs = 3000,
  headers: Record<string, string> = {},
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout on ${url}`)));
    req.on('error', reject);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export type { GuichetProcess } from '../support/guichet-process';

/** The built server in a temp dir of this run (see test/support/guichet-process.ts). */
export function startGuichet(
  opts: Parameters<typeof startProcess>[0],
): ReturnType<typeof startProcess> {
  return startProcess({ ...opts, cwd: opts.cwd ?? tmpDir('app') });
}

export function sha256File(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** relative path → sha256 of every file under dir. */
export function checksums(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = sha256File(p);
    }
  };
  walk(dir);
  return out;
}
