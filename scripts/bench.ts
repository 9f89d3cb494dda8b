/**
 * `npm run bench`: throughput and latency of Guichet's main pages with a large database.
 *
 *   npm run bench                                   1,000,000 tickets in a throw-away embedded PostgreSQL
 *   npm run bench -- --tickets 100000               a smaller one
 *   npm run bench -- --server postgres://postgres@127.0.0.1:5432/postgres
 *                                                   the throw-away database on that server instead
 *   npm run bench -- --database-url postgres://…/guichet_bench
 *                                                   an already seeded database (`npm run seed:bench`), kept
 *   options: --duration S (per measurement, default 10), --warmup S (per page, default 10;
 *            0: a few requests only), --share S (each page in turns with the floor, default
 *            20; 0: no shares), --users 10,50, --only queue,search,
 *            --out FILE (default bench-results.json)
 *
 * Starts the real server (dist/src/server.js, production mode, BENCHMARK_FLOOR=true) as a child
 * process on loopback, with its email going to an SMTP sink, logs in distinct sessions (staff for
 * the pages, employees to file tickets), then drives each page with autocannon at each number of
 * concurrent users, after driving it the same way for a while unmeasured (V8 needs 10 to 15 s of
 * load to optimise a page's code: the queue's first seconds run at 60 to 80 % of the throughput
 * it keeps afterwards, and a server runs for days). Every page is then compared with the floor
 * (/bench/floor: the session lookup and a tiny template), the two driven in turns of one second
 * (shareOfFloor): the machine's speed drifts over a run and can change within seconds, and a
 * share compares two figures taken at the same speeds. Prints a table and writes the same figures as JSON. The
 * client runs on the same machine as the server and the database: on a small machine they share
 * its cores.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon, { type RequestData } from 'autocannon';
import type { Knex } from 'knex';
import pg from 'pg';
import { SMTPServer } from 'smtp-server';
import { BENCH_PASSWORD } from '../seeds/bench';
import { loadConfig } from '../src/config';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/db/embedded-postgres';
import { createDb } from '../src/db/knex';
import { anyFreePort } from '../src/ports';
import { startGuichet, type GuichetProcess } from '../test/support/guichet-process';

const ROOT = path.resolve(__dirname, '..');
const SERVER_JS = path.join(ROOT, 'dist', 'src', 'server.js');
const SEED_JS = path.join(ROOT, 'dist', 'src', 'db', 'seed-cli.js');

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

/** The length of each turn of the page and of the floor when their shares are measured. */
const SHARE_SLICE_MS = 1000;

const USAGE = `Usage: npm run bench -- [--tickets N] [--server URL | --database-url URL] [--duration S]
                          [--warmup S] [--share S] [--users 10,50] [--only name,…] [--out FILE]`;

function parseArgs(argv: string[]) {
  const opts = {
    tickets: 1_000_000,
    server: undefined as string | undefined,
    databaseUrl: undefined as string | undefined,
    duration: 10,
    warmup: 10,
    share: 20,
    users: [10, 50],
    only: [] as string[],
    out: path.join(ROOT, 'bench-results.json'),
  };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${argv[i - 1]} needs a value\n${USAGE}`);
      return v;
    };
    const arg = argv[i];
    if (arg === '--tickets') opts.tickets = wholeNumber(value(), arg);
    else if (arg === '--server') opts.server = value();
    else if (arg === '--database-url') opts.databaseUrl = value();
    else if (arg === '--duration') opts.duration = wholeNumber(value(), arg);
    else if (arg === '--warmup') opts.warmup = wholeNumber(value(), arg, 0);
    else if (arg === '--share') {
      opts.share = wholeNumber(value(), arg, 0);
      // Two turns open the connections and are not counted; at least one of each is left.
      if (opts.share && opts.share * 1000 < 4 * SHARE_SLICE_MS) fail(`${arg}: use 0 or from 4`);
    } else if (arg === '--users')
      opts.users = value()
        .split(',')
        .map((u) => wholeNumber(u, arg));
    else if (arg === '--only') opts.only = value().split(',');
    else if (arg === '--out') opts.out = path.resolve(value());
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else fail(`Unknown argument: ${arg}\n${USAGE}`);
  }
  return opts;
}

function wholeNumber(v: string, name: string, least = 1): number {
  if (!/^\d+$/.test(v) || Number(v) < least) fail(`${name}: use a whole number from ${least}`);
  return Number(v);
}

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(2);
}

const log = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------------
// Database, SMTP sink, server
// ---------------------------------------------------------------------------------------------

interface Target {
  url: string;
  /** Removes what the bench created (nothing for --database-url). */
  dispose(): Promise<void>;
  seeded: boolean;
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function prepareDatabase(opts: ReturnType<typeof parseArgs>, work: string): Promise<Target> {
  if (opts.databaseUrl) return { url: opts.databaseUrl, seeded: true, dispose: async () => {} };
  if (opts.server) {
    const name = `guichet_bench_${crypto.randomBytes(4).toString('hex')}`;
    await adminQuery(opts.server, `create database ${name}`);
    const url = new URL(opts.server);
    url.pathname = `/${name}`;
    log(`throw-away database ${name} on ${url.host}`);
    return {
      url: url.toString(),
      seeded: false,
      dispose: () => adminQuery(opts.server!, `drop database if exists ${name} with (force)`),
    };
  }
  const embedded: EmbeddedPostgres = await startEmbeddedPostgres({
    dataDir: path.join(work, 'postgres'),
    secretFile: path.join(work, 'embedded-postgres.secret'),
  });
  log(`throw-away embedded PostgreSQL ${embedded.version} on 127.0.0.1:${embedded.port}`);
  return { url: embedded.connectionString, seeded: false, dispose: () => embedded.stop() };
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(args[0])} exited with ${code}`)),
    );
  });
}

/** An SMTP server that accepts and forgets every message: delivery costs what it costs in production. */
async function startSmtpSink(): Promise<{ port: number; received: () => number; stop(): void }> {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 200,
    onData(stream, _session, callback) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        received++;
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as net.AddressInfo).port;
  return { port, received: () => received, stop: () => server.close(() => undefined) };
}

interface Server {
  child: GuichetProcess['child'];
  base: string;
  logFile: string;
  stop(): Promise<void>;
}

async function startServer(dbUrl: string, smtpPort: number, work: string): Promise<Server> {
  const port = await anyFreePort();
  const base = `http://127.0.0.1:${port}`;
  const logFile = path.join(work, 'server.log');
  const server = await startGuichet({
    port,
    cwd: work,
    logFile,
    readyTimeoutMs: 120_000,
    env: {
      TZ: process.env.TZ,
      NODE_ENV: 'production',
      DATABASE_URL: dbUrl,
      APP_URL: base,
      SECRET_KEY: crypto.randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
      DATA_DIR: work,
      SMTP_SERVER: '127.0.0.1',
      SMTP_PORT: String(smtpPort),
      USE_TLS: 'false',
      SENDER_EMAIL: 'bench@guichet.local',
      BENCHMARK_FLOOR: 'true',
      // Unset: the server's default for this machine (config.ts, defaultPoolSize).
      DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE,
      // The heap settings production runs with (Dockerfile, systemd units, npm start);
      // GUICHET_NODE_OPTIONS replaces it to measure other V8 settings.
      NODE_OPTIONS:
        process.env.GUICHET_NODE_OPTIONS ?? '--max-old-space-size=192 --max-semi-space-size=32',
    },
  });
  return {
    child: server.child,
    base,
    logFile,
    stop: async () => void (await server.stop()),
  };
}

/** Resident memory of a process, in MB: now (VmRSS) and its peak so far (VmHWM). */
function memoryOf(pid: number): { rss: number; peak: number } {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
  } catch {
    return { rss: NaN, peak: NaN };
  }
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

interface Session {
  email: string;
  cookie: string;
  csrf: string;
}

function sessionCookie(res: Response): string | null {
  const set = res.headers.getSetCookie().find((c) => c.startsWith('guichet.sid='));
  return set ? set.split(';')[0] : null;
}

const csrfIn = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? null;

/** Logs in through the form, as a browser does; returns the session cookie and a CSRF token. */
async function login(base: string, email: string): Promise<Session> {
  const page = await fetch(`${base}/login`, { redirect: 'manual' });
  const anonymous = sessionCookie(page);
  const token = csrfIn(await page.text());
  if (!anonymous || !token) throw new Error('the login page has no session or CSRF token');
  const res = await fetch(`${base}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      cookie: anonymous,
      origin: base,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ _csrf: token, email, password: BENCH_PASSWORD }),
  });
  const cookie = sessionCookie(res);
  if (res.status !== 302 || !cookie) {
    throw new Error(
      `login as ${email} failed (${res.status}): are the bench accounts there (npm run seed:bench)?`,
    );
  }
  // The session was regenerated at login: the form token comes from the new one.
  const form = await fetch(`${base}/tickets/new`, { headers: { cookie }, redirect: 'manual' });
  const csrf = csrfIn(await form.text());
  if (!csrf) throw new Error(`no CSRF token on /tickets/new for ${email} (${form.status})`);
  return { email, cookie, csrf };
}

async function loginMany(base: string, emails: string[]): Promise<Session[]> {
  const sessions: Session[] = [];
  // Two at a time: users arrive over time, and each login costs an argon2 hash (19 MiB).
  for (let i = 0; i < emails.length; i += 2) {
    sessions.push(...(await Promise.all(emails.slice(i, i + 2).map((e) => login(base, e)))));
  }
  return sessions;
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

type Group = 'floor' | 'login' | 'queue' | 'search' | 'ticket' | 'dashboard' | 'create' | 'reply';

interface Scenario {
  name: string;
  group: Group;
  /** Statuses that count as a success; anything else is an error. */
  expect: number[];
  /** Writes: the outbox is left to drain before the next measurement. */
  writes?: boolean;
  /** Builds the next request; `n` counts the requests of the run. */
  request(n: number): RequestData & { context?: Record<string, unknown> };
  onResponse?(status: number, context: Record<string, unknown>): void;
  /** Called before each run (fresh ticket versions, for instance). */
  prepare?(): Promise<void>;
}

interface Fixtures {
  staff: Session[];
  employees: Session[];
  base: string;
  ticketWith50Events: number;
  categoryId: number;
  db: Knex;
}

const FORM = 'application/x-www-form-urlencoded';
/** The title of the bench's n-th ticket; with '%', what finds earlier runs' tickets (LIKE). */
const createdTitle = (n: number | '%') =>
  `Banc d’essai : l’imprimante du 3e étage n° ${n} ne répond plus`;
/** The text of the bench's n-th reply; with '%', what finds earlier runs' replies (LIKE). */
const replyBody = (n: number | '%') =>
  `Réponse n° ${n} du banc d’essai : pouvez-vous redémarrer le poste et réessayer ?`;

/**
 * Tickets and replies written by earlier runs on this database (--database-url). They change
 * what is measured: a ticket filed through the app goes into whatever free space a heap page
 * has, one per page, and the search ranks the most recent matches (the bench's tickets mention
 * its word): after one whole run on a fresh seed, the search page at 50 users went from 25 % of
 * the floor's throughput to 18 % (572 requests a second to 354, p95 121 ms to 189, on 2 CPUs).
 * Figures from such a database are not comparable with a fresh seed's.
 */
async function earlierWrites(db: Knex): Promise<{ tickets: number; replies: number }> {
  const result = await db.raw(
    `select (select count(*)::int from tickets where title like ?) as tickets,
            (select count(*)::int from ticket_events where type = 'comment.added' and body like ?) as replies`,
    [createdTitle('%'), replyBody('%')],
  );
  return result.rows[0] as { tickets: number; replies: number };
}

const floorScenario = (fx: Fixtures, users: number): Scenario =>
  scenarios(fx, users).find((s) => s.group === 'floor')!;

function scenarios(fx: Fixtures, users: number): Scenario[] {
  const staff = fx.staff.slice(0, users);
  const employees = fx.employees.slice(0, users);
  const asStaff = (n: number) => ({ cookie: staff[n % staff.length].cookie });
  const page = (name: string, group: Group, p: string): Scenario => ({
    name,
    group,
    expect: [200],
    request: (n) => ({ method: 'GET', path: p, headers: asStaff(n) }),
  });

  // Replies: each ticket is answered by one request at a time, with the version it has, as a
  // user who just loaded the page would; a 302 means the reply was recorded (version + 1).
  let pool: { id: number; version: number }[] = [];
  let free: { id: number; version: number }[] = [];
  const reply: Scenario = {
    name: 'post a reply',
    group: 'reply',
    expect: [302],
    writes: true,
    prepare: async () => {
      pool = await fx
        .db('tickets')
        .where('status', 'in_progress')
        .whereNot('id', fx.ticketWith50Events)
        .orderBy('id', 'desc')
        .limit(users * 3)
        .select('id', 'version');
      free = [...pool];
    },
    request: (n) => {
      const ticket = free.shift() ?? pool[n % pool.length];
      const s = staff[n % staff.length];
      return {
        method: 'POST',
        path: `/tickets/${ticket.id}/replies`,
        headers: { cookie: s.cookie, origin: fx.base, 'content-type': FORM },
        body: new URLSearchParams({
          _csrf: s.csrf,
          version: String(ticket.version),
          body: replyBody(n),
        }).toString(),
        context: { ticket },
      };
    },
    onResponse: (status, context) => {
      const ticket = context.ticket as { id: number; version: number } | undefined;
      if (!ticket) return;
      if (status === 302) {
        ticket.version++;
        free.push(ticket);
      } else {
        // Out of step (a 409): read the version again before using the ticket.
        void fx
          .db('tickets')
          .where('id', ticket.id)
          .first('version')
          .then(
            (row: { version: number } | undefined) => {
              if (row) ticket.version = row.version;
              free.push(ticket);
            },
            () => free.push(ticket),
          );
      }
    },
  };

  return [
    page('floor (session + tiny template)', 'floor', '/bench/floor'),
    {
      name: 'login page (anonymous)',
      group: 'login',
      expect: [200],
      request: () => ({ method: 'GET', path: '/login' }),
    },
    page('queue', 'queue', '/tickets'),
    page('queue ?status=in_progress', 'queue', '/tickets?status=in_progress'),
    page('queue ?priority=urgent', 'queue', '/tickets?priority=urgent'),
    page(`queue ?category=${fx.categoryId}`, 'queue', `/tickets?category=${fx.categoryId}`),
    page('queue ?assignee=me', 'queue', '/tickets?assignee=me'),
    page('queue ?assignee=none', 'queue', '/tickets?assignee=none'),
    page('queue ?sort=priority', 'queue', '/tickets?sort=priority'),
    page('search ?q=imprimante', 'search', '/tickets?q=imprimante'),
    page(
      `ticket #${fx.ticketWith50Events} (50 events)`,
      'ticket',
      `/tickets/${fx.ticketWith50Events}`,
    ),
    page('dashboard', 'dashboard', '/dashboard'),
    {
      name: 'create a ticket',
      group: 'create',
      expect: [302],
      writes: true,
      request: (n) => {
        const s = employees[n % employees.length];
        return {
          method: 'POST',
          path: '/tickets',
          headers: { cookie: s.cookie, origin: fx.base, 'content-type': FORM },
          body: new URLSearchParams({
            _csrf: s.csrf,
            title: createdTitle(n),
            description: 'Depuis ce matin, rien ne sort. J’ai éteint et rallumé, sans succès.',
            priority: 'normal',
          }).toString(),
        };
      },
    },
    reply,
  ];
}

// ---------------------------------------------------------------------------------------------
// Measurement
// ---------------------------------------------------------------------------------------------

interface Share {
  /** The page's and the floor's answers per steady second of their slices. */
  pageRequestsPerSecond: number;
  floorRequestsPerSecond: number;
  /** Seconds of steady slices counted, for each of the two. */
  steadySeconds: number;
  /** Unexpected statuses and connection errors, the page's and the floor's: any, no share. */
  errors: number;
  ofFloor: number | null;
}

interface Row {
  page: string;
  group: Group;
  users: number;
  requests: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p95: number; p99: number };
  errors: number;
  /** Responses with an unexpected status, by status ("0": connection errors and timeouts). */
  errorStatuses: Record<string, number>;
  /** The page's throughput as a share of the floor's, the two measured in turns (shareOfFloor). */
  share: Share | null;
  maxRssMb: number;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return Math.round(sorted[Math.max(0, i)] * 10) / 10;
}

/** A scenario's n-th request as autocannon sends it, its context kept for onResponse. */
function nextRequest(
  s: Scenario,
  n: number,
  req: RequestData,
  context: Record<string, unknown>,
): RequestData {
  const { context: extra, ...next } = s.request(n);
  if (extra) Object.assign(context, extra);
  return { ...req, ...next, headers: { ...next.headers } };
}

async function measure(
  base: string,
  s: Scenario,
  users: number,
  duration: number,
  pid: number,
): Promise<Row> {
  await s.prepare?.();
  const latencies: number[] = [];
  const errorStatuses: Record<string, number> = {};
  let n = 0;
  let maxRss = memoryOf(pid).rss;
  const sampler = setInterval(() => (maxRss = Math.max(maxRss, memoryOf(pid).rss)), 200);
  const instance = autocannon({
    url: base,
    connections: users,
    duration,
    timeout: 10,
    requests: [
      {
        setupRequest: (req, context) => nextRequest(s, n++, req, context),
        onResponse: s.onResponse
          ? (status, _body, context) => s.onResponse!(status, context)
          : undefined,
      },
    ],
  });
  instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
    if (!s.expect.includes(status)) errorStatuses[status] = (errorStatuses[status] ?? 0) + 1;
  });
  const result = await instance;
  clearInterval(sampler);
  maxRss = Math.max(maxRss, memoryOf(pid).rss);
  if (result.errors) errorStatuses['0'] = (errorStatuses['0'] ?? 0) + result.errors;
  latencies.sort((a, b) => a - b);
  const errors = Object.values(errorStatuses).reduce((a, b) => a + b, 0);
  return {
    page: s.name,
    group: s.group,
    users,
    requests: latencies.length,
    requestsPerSecond: Math.round((latencies.length / result.duration) * 10) / 10,
    latencyMs: {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
    },
    errors,
    errorStatuses,
    share: null,
    maxRssMb: Math.round(maxRss),
  };
}

/**
 * The page's throughput as a share of the floor's, measured with the two taken in turns: for
 * `seconds`, every connection asks for the page during one slice of SHARE_SLICE_MS and for the
 * floor during the next. This machine runs at one of two speeds and can switch within seconds:
 * a page and a floor measured one after the other can each get a different speed, and their
 * ratio then measures the machine. Slices this short give both the same mix of speeds.
 *
 * Each slice's throughput is counted only once the previous slice's requests have all been
 * answered (its steady part: every connection then waits on a request of the slice's kind); the
 * first two slices, which open the connections, are left out. The share is the page's answers
 * per steady second over the floor's, all slices summed.
 */
async function shareOfFloor(
  base: string,
  s: Scenario,
  floor: Scenario,
  users: number,
  seconds: number,
): Promise<Share> {
  await s.prepare?.();
  const done: { at: number; page: boolean; ok: boolean }[] = [];
  let n = 0;
  let f = 0;
  const started = performance.now();
  const pageSlice = (at: number) => Math.floor((at - started) / SHARE_SLICE_MS) % 2 === 0;
  const instance = autocannon({
    url: base,
    connections: users,
    duration: seconds,
    timeout: 10,
    requests: [
      {
        setupRequest: (req, context) => {
          const page = pageSlice(performance.now());
          context.page = page;
          return page ? nextRequest(s, n++, req, context) : nextRequest(floor, f++, req, context);
        },
        onResponse: (status, _body, context) => {
          const page = context.page === true;
          done.push({
            at: performance.now(),
            page,
            ok: (page ? s : floor).expect.includes(status),
          });
          if (page) s.onResponse?.(status, context);
        },
      },
    ],
  });
  const result = await instance;
  const slices = Math.floor((seconds * 1000) / SHARE_SLICE_MS);
  const steady = { page: { answers: 0, ms: 0 }, floor: { answers: 0, ms: 0 } };
  for (let i = 2; i < slices; i++) {
    const from = started + i * SHARE_SLICE_MS;
    const to = from + SHARE_SLICE_MS;
    const page = i % 2 === 0;
    const inSlice = done.filter((d) => d.at >= from && d.at < to);
    // The slice is steady from the last answer to a request of the previous slice.
    const settled = Math.max(from, ...inSlice.filter((d) => d.page !== page).map((d) => d.at));
    const kind = page ? steady.page : steady.floor;
    kind.answers += inSlice.filter((d) => d.page === page && d.at > settled).length;
    kind.ms += to - settled;
  }
  const pageRps = steady.page.answers / (steady.page.ms / 1000);
  const floorRps = steady.floor.answers / (steady.floor.ms / 1000);
  return {
    pageRequestsPerSecond: Math.round(pageRps * 10) / 10,
    floorRequestsPerSecond: Math.round(floorRps * 10) / 10,
    steadySeconds: Math.round((Math.min(steady.page.ms, steady.floor.ms) / 1000) * 10) / 10,
    errors: done.filter((d) => !d.ok).length + result.errors,
    // Three decimals: the check compares this figure, and a share rounded to whole percents
    // (0.396 to 0.40) would pass a page that misses.
    ofFloor: floorRps ? Math.round((pageRps / floorRps) * 1000) / 1000 : null,
  };
}

/** Waits until the outbox has sent what the writes queued, so the next page is measured alone. */
async function drainOutbox(db: Knex, limitMs: number): Promise<{ ms: number; left: number }> {
  const started = Date.now();
  for (;;) {
    const row = await db('notifications')
      .whereIn('status', ['pending', 'retry', 'sending'])
      .count<{ n: number }[]>('* as n')
      .first();
    const left = Number(row?.n ?? 0);
    if (!left || Date.now() - started > limitMs) return { ms: Date.now() - started, left };
    await sleep(500);
  }
}

// ---------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------

const TARGETS = {
  p95At10: 50,
  p95At50: 150,
  floorShare: 0.4,
  rssMb: 250,
};

function table(rows: Row[]): string {
  const head = [
    'page',
    'users',
    'req/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'errors',
    'in turns: page | floor req/s',
    'of floor',
    'RSS MB',
  ];
  const body = rows.map((r) => [
    r.page,
    String(r.users),
    r.requestsPerSecond.toFixed(1),
    r.latencyMs.p50.toFixed(1),
    r.latencyMs.p95.toFixed(1),
    r.latencyMs.p99.toFixed(1),
    r.errors
      ? `${r.errors} (${Object.entries(r.errorStatuses)
          .map(([k, v]) => `${k === '0' ? 'conn' : k}×${v}`)
          .join(' ')})`
      : '0',
    r.share === null
      ? ''
      : `${r.share.pageRequestsPerSecond.toFixed(1)} | ${r.share.floorRequestsPerSecond.toFixed(1)}`,
    r.share?.ofFloor == null ? '' : `${(r.share.ofFloor * 100).toFixed(1)} %`,
    String(r.maxRssMb),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

function verdicts(rows: Row[], peakRssMb: number): { target: string; met: boolean }[] {
  const out: { target: string; met: boolean }[] = [];
  for (const r of rows.filter((x) => ['queue', 'search', 'ticket'].includes(x.group))) {
    const limit = r.users <= 10 ? TARGETS.p95At10 : TARGETS.p95At50;
    out.push({
      target: `${r.page} at ${r.users} users: p95 ${r.latencyMs.p95} ms < ${limit} ms, ${r.errors} errors`,
      met: r.latencyMs.p95 < limit && r.errors === 0,
    });
  }
  for (const { page, users, share } of rows) {
    if (page !== 'queue' || !share) continue;
    const measured = share.errors
      ? `${share.errors} errors while the page and the floor were measured in turns`
      : `${(share.ofFloor! * 100).toFixed(1)} % of the floor's throughput ` +
        `(${share.pageRequestsPerSecond} and ${share.floorRequestsPerSecond} req/s, in turns ` +
        `of ${SHARE_SLICE_MS / 1000} s, ${share.steadySeconds} steady seconds each)`;
    out.push({
      target: `queue at ${users} users: ${measured} ≥ ${TARGETS.floorShare * 100} %`,
      met: !share.errors && share.ofFloor! >= TARGETS.floorShare,
    });
  }
  out.push({
    target: `server peak RSS ${peakRssMb} MB < ${TARGETS.rssMb} MB`,
    met: peakRssMb < TARGETS.rssMb,
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(SERVER_JS)) fail('dist/ is missing: run `npm run build` first');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'guichet-bench-'));
  fs.chmodSync(work, 0o755);
  const loadBefore = os.loadavg();
  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanup = async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
    cleanups.length = 0;
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    const target = await prepareDatabase(opts, work);
    cleanups.push(() => target.dispose());
    if (!target.seeded) {
      log(`seeding ${opts.tickets.toLocaleString('en')} tickets (npm run seed:bench)…`);
      const started = Date.now();
      await run(
        process.execPath,
        [SEED_JS, 'bench', '--tickets', String(opts.tickets)],
        {
          PATH: process.env.PATH,
          DATABASE_URL: target.url,
          NODE_ENV: 'development',
          DATA_DIR: work,
        },
        work,
      );
      log(`seeded in ${Math.round((Date.now() - started) / 1000)} s`);
    }
    const db = createDb(target.url, { poolMax: 2 });
    cleanups.push(() => db.destroy());
    const others = await db.raw(
      `select count(*)::int as n from pg_stat_activity
        where datname = current_database() and pid <> pg_backend_pid()
          and backend_type = 'client backend'`,
    );
    if (others.rows[0].n) {
      log(
        `warning: ${others.rows[0].n} other connection(s) to this database: another Guichet ` +
          'running on it would share the machine and take the outbox jobs (its emails, its SMTP).',
      );
    }

    const smtp = await startSmtpSink();
    cleanups.push(() => smtp.stop());
    const server = await startServer(target.url, smtp.port, work);
    cleanups.push(() => server.stop());
    const pid = server.child.pid!;
    log(`server ${server.base} (pid ${pid}), log in ${server.logFile}`);

    const maxUsers = Math.max(...opts.users);
    const staffEmails = [
      ...Array.from({ length: 20 }, (_, i) => `tech${i + 1}@bench.guichet.local`),
      'admin1@bench.guichet.local',
      'admin2@bench.guichet.local',
    ];
    const staff = await loginMany(
      server.base,
      Array.from({ length: maxUsers }, (_, i) => staffEmails[i % staffEmails.length]),
    );
    const employees = await loginMany(
      server.base,
      Array.from({ length: maxUsers }, (_, i) => `employee${i + 1}@bench.guichet.local`),
    );
    const afterLogins = memoryOf(pid);
    log(
      `${staff.length} staff and ${employees.length} employee sessions logged in; server RSS ` +
        `${Math.round(afterLogins.rss)} MB (peak so far ${Math.round(afterLogins.peak)} MB)`,
    );

    // The seeded ticket with a 50-event timeline; a ticket the reply measurements lengthened
    // (they never pick it, but an older bench may have) would measure a longer page.
    const heavy = await db.raw(
      `select t.id from tickets t
        where (select count(*) from ticket_events e where e.ticket_id = t.id) between 50 and 55
        order by t.id limit 1`,
    );
    const category = await db('categories').orderBy('id').offset(2).first('id');
    const facts = {
      tickets: Number((await db('tickets').count<{ n: number }[]>('* as n').first())?.n ?? 0),
      postgres: (await db.raw('show server_version')).rows[0].server_version as string,
      earlierRuns: await earlierWrites(db),
    };
    if (facts.earlierRuns.tickets || facts.earlierRuns.replies) {
      log(
        `warning: ${facts.earlierRuns.tickets} tickets and ${facts.earlierRuns.replies} replies ` +
          'from earlier bench runs are in this database: the search reads them first, and its ' +
          'figures are lower than on a fresh seed (npm run seed:bench again for comparable ones).',
      );
    }
    const fx: Fixtures = {
      staff,
      employees,
      base: server.base,
      ticketWith50Events: Number(heavy.rows[0]?.id ?? 1),
      categoryId: Number(category?.id ?? 1),
      db,
    };

    // Warm-up: compile the views, fill the caches.
    for (const s of scenarios(fx, maxUsers).filter((x) => !x.writes)) {
      for (let i = 0; i < 5; i++) {
        const r = s.request(i);
        await fetch(`${server.base}${r.path}`, { headers: r.headers, redirect: 'manual' }).then(
          (res) => res.arrayBuffer(),
          () => undefined,
        );
      }
    }

    const rows: Row[] = [];
    const drains: { after: string; ms: number; left: number }[] = [];
    // The emails filed go out before the next measurement: it measures the pages, not the
    // outbox's work.
    const drained = async (s: Scenario, users: number) => {
      const d = await drainOutbox(db, 180_000);
      drains.push({ after: `${s.name} at ${users} users`, ...d });
      log(`  outbox drained in ${(d.ms / 1000).toFixed(1)} s (${d.left} left)`);
    };
    const names = scenarios(fx, maxUsers).map((s) => s.name);
    const selected = (s: Scenario) =>
      s.group === 'floor' ||
      !opts.only.length ||
      opts.only.some((o) => s.group === o || s.name.includes(o));
    for (const name of names) {
      let warm = false;
      for (const users of opts.users) {
        const s = scenarios(fx, users).find((x) => x.name === name)!;
        if (!selected(s)) continue;
        // Pages are measured warm, as a server that has been running serves them; writes are
        // not (they would fill the outbox and the database before their own measurement).
        if (!warm && !s.writes && opts.warmup) {
          await measure(server.base, s, users, opts.warmup, pid);
          warm = true;
        }
        const row = await measure(server.base, s, users, opts.duration, pid);
        log(
          `${row.page} at ${users} users: ${row.requestsPerSecond} req/s, p95 ${row.latencyMs.p95} ms, ${row.errors} errors`,
        );
        if (s.writes) await drained(s, users);
        if (opts.share) {
          // The floor's own row measures the floor in turns with itself: how far from 100 %
          // the method lands when nothing differs.
          row.share = await shareOfFloor(
            server.base,
            s,
            floorScenario(fx, users),
            users,
            opts.share,
          );
          log(
            `  in turns with the floor: ${row.share.pageRequestsPerSecond} and ` +
              `${row.share.floorRequestsPerSecond} req/s, ` +
              (row.share.errors
                ? `${row.share.errors} errors (no share is counted)`
                : `${(row.share.ofFloor! * 100).toFixed(1)} % of the floor`),
          );
          if (s.writes) await drained(s, users);
        }
        rows.push(row);
      }
    }
    const peakRssMb = Math.round(memoryOf(pid).peak);
    const checks = verdicts(rows, peakRssMb);
    const conditions = {
      date: new Date().toISOString(),
      tickets: facts.tickets,
      /** Tickets and replies written by earlier bench runs (see earlierWrites). */
      writtenByEarlierRuns: facts.earlierRuns,
      postgres: facts.postgres,
      database: opts.databaseUrl
        ? 'existing (--database-url)'
        : opts.server
          ? 'throw-away on --server'
          : 'throw-away embedded',
      node: process.version,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? '',
      memoryGb: Math.round(os.totalmem() / 1024 ** 3),
      loadAverageBefore: loadBefore.map((l) => Math.round(l * 100) / 100),
      loadAverageAfter: os.loadavg().map((l) => Math.round(l * 100) / 100),
      // What the server made of it, by the same rule.
      databasePoolSize: loadConfig({ DATABASE_POOL_SIZE: process.env.DATABASE_POOL_SIZE })
        .databasePoolSize,
      durationPerMeasurementS: opts.duration,
      warmupSecondsPerPage: opts.warmup,
      shareSecondsPerPage: opts.share,
      shareSliceMs: SHARE_SLICE_MS,
      client: 'autocannon on the same machine, loopback, keep-alive, no pipelining',
      emailsReceivedBySink: smtp.received(),
    };

    log('');
    log(table(rows));
    log('');
    log(`server peak RSS (VmHWM): ${peakRssMb} MB`);
    log(
      `conditions: ${conditions.tickets.toLocaleString('en')} tickets, PostgreSQL ${conditions.postgres}, ` +
        `node ${conditions.node}, ${conditions.cpus} CPUs, load average ${conditions.loadAverageBefore.join(' ')} before, ` +
        `${conditions.loadAverageAfter.join(' ')} after, ${opts.duration} s per measurement`,
    );
    for (const d of drains)
      log(`outbox after ${d.after}: drained in ${(d.ms / 1000).toFixed(1)} s`);
    log('');
    for (const c of checks) log(`${c.met ? 'met   ' : 'MISSED'} ${c.target}`);
    fs.writeFileSync(
      opts.out,
      `${JSON.stringify({ conditions, peakRssMb, results: rows, drains, targets: checks }, null, 2)}\n`,
    );
    log(`\nresults written to ${path.relative(process.cwd(), opts.out) || opts.out}`);
  } finally {
    await cleanup();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
