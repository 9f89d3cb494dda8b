/**
 * SQL-injection scan of the real server with sqlmap (Debian's `sqlmap` package), as `.ci/run`
 * runs it:
 *
 *   npm run build && npx tsx test/security/sqlmap-check.ts
 *
 * It creates a throw-away database (on TEST_DATABASE_URL when set, otherwise on an embedded
 * PostgreSQL in a temporary directory), starts `node dist/src/server.js` on it with a first
 * admin, seeds a category, a technician and a few tickets through the forms, logs in, then runs
 * sqlmap at level 2, risk 1 against:
 *   - POST /login (email, password), with the form's CSRF token fetched before every request;
 *   - GET /tickets?status=…&priority=…&category=…&assignee=…&sort=…&q=… logged in as an admin
 *     (the queue's filters and the full-text search).
 * It exits non-zero when sqlmap reports an injectable parameter, when the server answered 500
 * to anything sqlmap sent, or when a scan did not run to its end.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres';
import { anyFreePort } from '../../src/ports';

const ROOT = path.resolve(__dirname, '../..');
const SQLMAP = process.env.SQLMAP ?? 'sqlmap';
const ADMIN = { email: 'sqlmap-admin@example.com', password: 'sqlmap-admin-password' };

/**
 * sqlmap options shared by every scan.
 * - `--dbms=PostgreSQL`: Guichet runs on PostgreSQL only, so payloads for other engines test
 *   nothing; limiting them keeps the run to about a minute.
 * - `--technique=BEUSTQ` is sqlmap's default set (boolean, error, union, stacked, time-based,
 *   inline queries), spelled out so that a future default cannot silently shrink the scan.
 * - `--threads=4` for the queue: the server answers concurrently, and more threads would only
 *   fight for the CI's 2 CPU cores. The login scan runs on one thread: sqlmap refuses
 *   `--csrf-url` with more, since every request needs the token of the page fetched before it.
 * - `--time-sec=2`: time-based payloads wait 2 s instead of 5 on a hit; a hit fails the scan
 *   whatever its length, and the loopback server answers in milliseconds, so 2 s is unambiguous.
 */
const COMMON = [
  '--batch',
  '--level=2',
  '--risk=1',
  '--dbms=PostgreSQL',
  '--technique=BEUSTQ',
  '--time-sec=2',
  '--timeout=15',
  '--retries=1',
  '--flush-session',
  '--disable-coloring',
];

function log(msg: string): void {
  process.stdout.write(`[sqlmap-check] ${msg}\n`);
}

/** A tiny cookie-keeping client for the seeding steps. */
class Browser {
  private cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(this.base + url, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers as Record<string, string>), Cookie: this.cookieHeader },
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
    return res;
  }

  async token(url: string): Promise<string> {
    const html = await (await this.request(url)).text();
    const m = /name="_csrf" value="([^"]+)"/.exec(html);
    if (!m) throw new Error(`no CSRF token on ${url}`);
    return m[1];
  }

  /** Posts a form with the token of `from`; expects the redirect of a success. */
  async post(url: string, fields: Record<string, string>, from = url): Promise<string> {
    const body = new URLSearchParams({ ...fields, _csrf: await this.token(from) });
    const res = await this.request(url, {
      method: 'POST',
      body,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    if (res.status !== 302) throw new Error(`POST ${url} answered ${res.status}`);
    return res.headers.get('location') ?? '';
  }
}

interface ScanResult {
  name: string;
  seconds: number;
  injectable: boolean;
  completed: boolean;
  errors500: number;
  summary: string[];
}

/** Runs one sqlmap scan, echoing its output, and reads the verdict from it. */
function scan(name: string, args: string[], outputDir: string): Promise<ScanResult> {
  const all = [...COMMON, `--output-dir=${path.join(outputDir, name)}`, ...args];
  log(`${name}: ${SQLMAP} ${all.join(' ')}`);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(SQLMAP, all, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const echo = (chunk: Buffer) => {
      out += chunk.toString();
      process.stdout.write(chunk);
    };
    child.stdout.on('data', echo);
    child.stderr.on('data', echo);
    child.on('error', reject);
    child.on('close', (code) => {
      // sqlmap's own verdict: "appears to be injectable" lines may be followed by its
      // false-positive check, so only the final "identified" report counts as a finding.
      const injectable = /identified the following injection point/i.test(out);
      const completed =
        code !== null && /all tested parameters do not appear to be injectable/i.test(out);
      const errors500 = Number(/500 \(Internal Server Error\) - (\d+) times/.exec(out)?.[1] ?? 0);
      const summary = out
        .split('\n')
        .filter((l) =>
          /CRITICAL|injectable|injection point|HTTP error codes|Internal Server Error|ending @/i.test(
            l,
          ),
        );
      resolve({
        name,
        seconds: Math.round((Date.now() - started) / 1000),
        injectable,
        completed,
        errors500,
        summary,
      });
    });
  });
}

async function main(): Promise<number> {
  const version = spawnSync(SQLMAP, ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    log(`cannot run ${SQLMAP}: install it (apt-get install sqlmap)`);
    return 2;
  }
  if (!fs.existsSync(path.join(ROOT, 'dist/src/server.js'))) {
    log('dist/src/server.js is missing: run `npm run build` first');
    return 2;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'guichet-sqlmap-'));
  fs.chmodSync(tmp, 0o755);
  let embedded: EmbeddedPostgres | undefined;
  let adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    log('TEST_DATABASE_URL is unset: starting an embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({
      dataDir: path.join(tmp, 'postgres'),
      secretFile: path.join(tmp, 'pg-secret'),
      settings: { fsync: 'off', synchronous_commit: 'off' },
    });
    adminUrl = embedded.adminConnectionString;
  }
  const dbName = `guichet_sqlmap_${crypto.randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`create database ${dbName}`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;

  const port = await anyFreePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, [path.join(ROOT, 'dist/src/server.js')], {
    cwd: tmp,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      SECRET_KEY: crypto.randomBytes(32).toString('hex'),
      DATABASE_URL: dbUrl.toString(),
      PORT: String(port),
      HOST: '127.0.0.1',
      APP_URL: base,
      DATA_DIR: path.join(tmp, 'data'),
      LOG_LEVEL: 'warn',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      // sqlmap sends hundreds of wrong passwords from one address for one account: with the
      // default limits every answer after the 5th would be the 429 page and the payloads would
      // never reach the query that looks the account up.
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000000',
      LOGIN_MAX_FAILURES_PER_ADDRESS: '1000000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let serverLog = '';
  server.stdout.on('data', (c: Buffer) => (serverLog += c.toString()));
  server.stderr.on('data', (c: Buffer) => (serverLog += c.toString()));

  const cleanup = async () => {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r).once('error', r));
    await admin(`drop database if exists ${dbName} with (force)`).catch(() => undefined);
    await embedded?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  };

  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (server.exitCode !== null || Date.now() > deadline) {
        log(`the server did not start:\n${serverLog}`);
        return 1;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    log(`server ready on ${base}`);

    // Seed through the forms: a category, a technician, tickets with every filter in use.
    const browser = new Browser(base);
    await browser.post('/login', ADMIN);
    await browser.post('/admin/categories', { name: 'Imprimantes' }, '/admin/categories/new');
    await browser.post(
      '/admin/users',
      {
        name: 'Théo Technicien',
        email: 'tech@example.com',
        role: 'technician',
        password: 'technician-password',
      },
      '/admin/users/new',
    );
    const categoryId = (await (await browser.request('/tickets/new')).text()).match(
      /<option value="(\d+)"[^>]*>Imprimantes</,
    )?.[1];
    for (const [title, priority] of [
      ['Imprimante bloquée au deuxième étage', 'high'],
      ['Écran qui clignote', 'normal'],
      ['VPN inaccessible depuis la maison', 'urgent'],
    ]) {
      await browser.post(
        '/tickets',
        {
          title,
          description: `${title} : détails de la panne, imprimante et réseau.`,
          priority,
          category_id: categoryId ?? '',
        },
        '/tickets/new',
      );
    }
    const cookie = browser.cookieHeader;
    const check = await browser.request('/tickets?q=imprimante');
    if (check.status !== 200 || !(await check.text()).includes('bloquée au deuxième étage')) {
      log('the seeded queue does not show the seeded tickets: the scan would test nothing');
      return 1;
    }

    const out = path.join(tmp, 'sqlmap');
    const results: ScanResult[] = [];
    results.push(
      await scan(
        'login',
        [
          `--url=${base}/login`,
          '--data=email=someone%40example.com&password=wrong-password&_csrf=x',
          '--csrf-token=_csrf',
          `--csrf-url=${base}/login`,
          '-p',
          'email,password',
          // A wrong password answers 401 with the form again: a normal page, not an error.
          '--ignore-code=401',
          '--threads=1',
        ],
        out,
      ),
    );
    results.push(
      await scan(
        'queue',
        [
          `--url=${base}/tickets?status=new&priority=high&category=${categoryId ?? '1'}&assignee=none&sort=priority&q=imprimante`,
          `--cookie=${cookie}`,
          '-p',
          'status,priority,category,assignee,sort,q',
          '--threads=4',
        ],
        out,
      ),
    );

    let failed = false;
    log('results:');
    for (const r of results) {
      const verdict = r.injectable
        ? 'INJECTABLE'
        : r.errors500
          ? `${r.errors500} answers of 500`
          : r.completed
            ? 'nothing found'
            : 'did not complete';
      log(`  ${r.name}: ${verdict} (${r.seconds} s)`);
      for (const line of r.summary) log(`    ${line.trim()}`);
      if (r.injectable || r.errors500 || !r.completed) failed = true;
    }
    if (/"level":50|"level":60|unhandled error/.test(serverLog)) {
      log(`the server logged errors during the scan:\n${serverLog.slice(-4000)}`);
      failed = true;
    }
    return failed ? 1 : 0;
  } finally {
    await cleanup();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`[sqlmap-check] ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
