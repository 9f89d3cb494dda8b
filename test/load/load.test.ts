/**
 * Load and faults, against the real thing: Guichet processes started from dist/ as in
 * production, an embedded PostgreSQL this test owns (so it can stop and start it again), and a
 * real SMTP server on loopback. Everything stays on 127.0.0.1.
 *
 * Phase 1: 100 logged-in users (70 employees, 30 technicians) browse, file tickets and reply
 * for LOAD_SECONDS (60). In the middle, the SMTP server answers 451 for 20 s and PostgreSQL is
 * stopped (fast shutdown), kept down 3 s and started again on the same port. Then:
 *   - every write the server acknowledged (302 to the ticket) is in the database;
 *   - every email of the outbox reaches the SMTP server exactly once (by Message-ID);
 *   - the app answered 503 pages while the database was away, nothing else went wrong, and it
 *     served pages again within 5 s of PostgreSQL being back, without being restarted.
 * Phase 2: a second process on the same database; both take the same users' requests in turn
 * for LOAD_SECONDS_TWO (30): no duplicate email, no lost update (two replies never recorded on
 * the same version of a ticket, each acknowledged reply present).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Algorithm, hash } from '@node-rs/argon2';
import type { Knex } from 'knex';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/db/embedded-postgres';
import { createDb } from '../../src/db/knex';
import { startGuichet } from '../support/guichet-process';
import { TestSmtpServer } from '../support/smtp';
import { login, startTraffic, type Session, type Traffic } from './traffic';
import { anyFreePort } from '../../src/ports';

const ROOT = path.resolve(__dirname, '..', '..');
const SERVER_JS = path.join(ROOT, 'dist', 'src', 'server.js');
const SECONDS = Number(process.env.LOAD_SECONDS ?? 60);
const SECONDS_TWO = Number(process.env.LOAD_SECONDS_TWO ?? 30);
const EMPLOYEES = 70;
const TECHNICIANS = 30;
const PASSWORD = 'load-test-password';
const DB_DOWN_MS = 3000;
const SMTP_REFUSAL_MS = 20000;
const RECOVERY_LIMIT_MS = 5000;
/** Delivery retries back off 30 s, then 1 min: the outbox drains within a few minutes. */
const DRAIN_LIMIT_MS = 240000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const out = (line = '') => process.stdout.write(`${line}\n`);

interface App {
  name: string;
  base: string;
  logFile: string;
  /** Times the process ended: a restart would show here. */
  exits: number;
  stop(): Promise<unknown>;
}

async function startApp(name: string, env: Record<string, string>, work: string): Promise<App> {
  const dataDir = path.join(work, name);
  fs.mkdirSync(dataDir, { recursive: true });
  const logFile = path.join(work, `${name}.log`);
  const server = await startGuichet({
    port: await anyFreePort(),
    cwd: dataDir,
    logFile,
    readyTimeoutMs: 60000,
    env: { ...env, DATA_DIR: dataDir },
  });
  const app: App = { name, base: server.base, logFile, exits: 0, stop: () => server.stop() };
  server.child.on('exit', () => app.exits++);
  return app;
}

/** What the database says about the writes a phase's users were told were done. */
async function verifyWrites(db: Knex, t: Traffic, hotTickets: number[]) {
  const ids = t.creates.map((c) => c.id);
  const found = await db('tickets').whereIn('id', ids).select('id', 'title');
  const titles = new Map(found.map((r) => [Number(r.id), r.title as string]));
  const missingCreates = t.creates.filter((c) => titles.get(c.id) !== c.title);
  const bodies = await db('ticket_events')
    .where('type', 'comment.added')
    .whereIn(
      'body',
      t.replies.map((r) => r.body),
    )
    .select('ticket_id', 'body');
  const present = new Set(bodies.map((b) => `${b.ticket_id} ${b.body}`));
  const missingReplies = t.replies.filter((r) => !present.has(`${r.ticketId} ${r.body}`));
  // Two messages recorded on the same version of a ticket: one of them overwrote the other's view.
  const shared = await db('ticket_events')
    .whereIn('ticket_id', hotTickets)
    .whereIn('type', ['comment.added', 'note.added'])
    .groupBy('ticket_id', 'ticket_version')
    .havingRaw('count(*) > 1')
    .select('ticket_id', 'ticket_version');
  const versions = await db('tickets as t')
    .whereIn('t.id', hotTickets)
    .select(
      't.id',
      't.version',
      db.raw('(select max(ticket_version) from ticket_events e where e.ticket_id = t.id) as last'),
    );
  const outOfStep = versions.filter((v) => Number(v.version) !== Number(v.last));
  return {
    creates: t.creates.length,
    createsFound: t.creates.length - missingCreates.length,
    replies: t.replies.length,
    repliesFound: t.replies.length - missingReplies.length,
    sharedVersions: shared.length,
    outOfStep: outOfStep.length,
  };
}

/** Waits for the outbox to be empty, then compares it with what the SMTP server received. */
async function verifyEmails(db: Knex, smtp: TestSmtpServer) {
  const started = Date.now();
  let waiting = 0;
  for (;;) {
    const row = await db('notifications')
      .whereIn('status', ['pending', 'retry', 'sending'])
      .count<{ n: number }[]>('* as n')
      .first();
    waiting = Number(row?.n ?? 0);
    if (!waiting || Date.now() - started > DRAIN_LIMIT_MS) break;
    await sleep(1000);
  }
  // Let the last accepted messages be parsed by the test server.
  await sleep(1000);
  const rows = (await db('notifications').select('message_id', 'status')) as {
    message_id: string;
    status: string;
  }[];
  const received = new Map<string, number>();
  for (const m of smtp.received) {
    const id = (m.parsed.messageId ?? '').replace(/^<|>$/g, '');
    received.set(id, (received.get(id) ?? 0) + 1);
  }
  const idOf = (v: string) => v.replace(/^<|>$/g, '');
  const duplicates = [...received.values()].reduce((n, c) => n + Math.max(0, c - 1), 0);
  const sent = rows.filter((r) => r.status === 'sent');
  const notReceived = sent.filter((r) => !received.has(idOf(r.message_id))).length;
  return {
    written: rows.length,
    sent: sent.length,
    failed: rows.filter((r) => r.status === 'failed').length,
    stillWaiting: waiting,
    received: smtp.received.length,
    distinct: received.size,
    duplicates,
    notReceived,
    drainedInMs: Date.now() - started,
  };
}

function tally(answers: Traffic['answers']) {
  const byStatus: Record<string, number> = {};
  for (const a of answers) byStatus[a.status] = (byStatus[a.status] ?? 0) + 1;
  return Object.entries(byStatus)
    .map(([s, n]) => `${s === '0' ? 'no answer' : s}: ${n}`)
    .join(', ');
}

const expectedStatus = (a: Traffic['answers'][number]) =>
  a.method === 'GET'
    ? a.status === 200
    : a.status === 302 || (a.status === 409 && a.kind.includes('reply'));

describe('load and faults', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'guichet-load-'));
  fs.chmodSync(work, 0o755);
  let pg: EmbeddedPostgres | null = null;
  let db: Knex | null = null;
  let smtp: TestSmtpServer | null = null;
  const apps: App[] = [];
  let failed = false;

  afterAll(async () => {
    for (const app of apps) await app.stop();
    await db?.destroy().catch(() => undefined);
    await smtp?.stop().catch(() => undefined);
    await pg?.stop().catch(() => undefined);
    if (failed) out(`Logs kept in ${work}`);
    else fs.rmSync(work, { recursive: true, force: true });
  });

  test('when the database restarts and SMTP refuses under load, then nothing acknowledged is lost and nothing is sent twice', async () => {
    if (!fs.existsSync(SERVER_JS)) throw new Error('dist/ is missing: run `npm run build`');
    failed = true;
    const pgPort = await anyFreePort();
    const pgOptions = {
      dataDir: path.join(work, 'postgres'),
      secretFile: path.join(work, 'postgres.secret'),
      port: pgPort,
    };
    pg = await startEmbeddedPostgres(pgOptions);
    smtp = await new TestSmtpServer().start();
    const appPort = await anyFreePort();
    const origin = `http://127.0.0.1:${appPort}`;
    // Both processes share the secret (sessions are valid on either) and the public URL.
    const env = {
      NODE_ENV: 'production',
      DATABASE_URL: pg.connectionString,
      HOST: '127.0.0.1',
      APP_URL: origin,
      SECRET_KEY: crypto.randomBytes(32).toString('hex'),
      LOG_LEVEL: 'warn',
      SMTP_SERVER: '127.0.0.1',
      SMTP_PORT: String(smtp.port),
      USE_TLS: 'false',
      SENDER_EMAIL: 'support@load.test',
    };
    const a = await startApp('app-a', env, work);
    apps.push(a);

    // Accounts, and two categories with a default assignee: a new ticket emails its requester
    // and that technician, a reply the other side.
    db = createDb(pg.connectionString, { poolMax: 4 });
    const passwordHash = await hash(PASSWORD, { algorithm: Algorithm.Argon2id });
    const people = [
      ...Array.from({ length: EMPLOYEES }, (_, i) => ({
        email: `employee${i + 1}@load.test`,
        name: `Employé ${i + 1}`,
        role: 'employee',
      })),
      ...Array.from({ length: TECHNICIANS }, (_, i) => ({
        email: `tech${i + 1}@load.test`,
        name: `Technicien ${i + 1}`,
        role: 'technician',
      })),
    ];
    const users = await db('users')
      .insert(people.map((p) => ({ ...p, password_hash: passwordHash, locale: 'fr' })))
      .returning(['id', 'email']);
    const techId = (n: number) => users.find((u) => u.email === `tech${n}@load.test`)!.id;
    const categories = await db('categories')
      .insert([
        { name: 'Poste de travail', position: 1, default_assignee_id: techId(1) },
        { name: 'Réseau', position: 2, default_assignee_id: techId(2) },
      ])
      .returning('id');
    const categoryIds = categories.map((c) => Number(c.id));

    const sessions: Session[] = [];
    for (let i = 0; i < people.length; i += 5) {
      sessions.push(
        ...(await Promise.all(
          people
            .slice(i, i + 5)
            .map((p) => login(a.base, origin, p.email, PASSWORD, p.role as Session['role'])),
        )),
      );
    }
    const hotTickets: number[] = [];
    for (const s of sessions.slice(0, 10)) {
      const res = await fetch(`${a.base}/tickets`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          cookie: s.cookie,
          origin,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({
          _csrf: s.csrf,
          title: `Ticket très suivi de ${s.email}`,
          description: 'Tout le service attend.',
          category_id: String(categoryIds[0]),
        }),
      });
      hotTickets.push(Number(/\/tickets\/(\d+)/.exec(res.headers.get('location') ?? '')![1]));
    }
    const traffic = {
      origin,
      sessions,
      hotTickets,
      categoryIds,
      thinkMs: [300, 1200] as [number, number],
    };

    // Phase 1: one process, faults in the middle.
    const tag1 = `load-${crypto.randomBytes(3).toString('hex')}`;
    const t0 = Date.now();
    const run1 = startTraffic({ ...traffic, bases: [a.base], tag: tag1 });
    const at = (fraction: number) =>
      sleep(Math.max(0, t0 + fraction * SECONDS * 1000 - Date.now()));
    await at(1 / 3);
    const smtpRefusedAt = Date.now();
    smtp.refuseWith(451);
    const smtpBack = sleep(SMTP_REFUSAL_MS).then(() => smtp!.accept());
    await at(0.42);
    const dbStopAt = Date.now();
    await db.destroy();
    await pg.stop();
    await sleep(DB_DOWN_MS);
    pg = await startEmbeddedPostgres(pgOptions);
    const dbBackAt = Date.now();
    db = createDb(pg.connectionString, { poolMax: 4 });
    await smtpBack;
    await at(1);
    const t1 = await run1.stop();
    const phase1End = Date.now();

    const firstSuccess = t1.answers
      .filter((x) => x.startedAt >= dbBackAt && expectedStatus(x))
      .sort((x, y) => x.endedAt - y.endedAt)[0];
    const recoveredAt = firstSuccess?.endedAt ?? Infinity;
    const duringOutage = (x: Traffic['answers'][number]) =>
      x.endedAt >= dbStopAt && x.startedAt <= recoveredAt;
    const unavailable = t1.answers.filter((x) => x.status === 503 && duringOutage(x));
    const unexpected1 = t1.answers.filter((x) => !expectedStatus(x) && !unavailable.includes(x));
    const writes1 = await verifyWrites(db, t1, hotTickets);

    // Phase 2: a second process on the same database; requests alternate between the two.
    const b = await startApp('app-b', env, work);
    apps.push(b);
    const tag2 = `load-${crypto.randomBytes(3).toString('hex')}`;
    const run2 = startTraffic({ ...traffic, bases: [a.base, b.base], tag: tag2 });
    await sleep(SECONDS_TWO * 1000);
    const t2 = await run2.stop();
    const unexpected2 = t2.answers.filter((x) => !expectedStatus(x));
    const writes2 = await verifyWrites(db, t2, hotTickets);
    const emails = await verifyEmails(db, smtp);
    const restarts = apps.reduce((n, app) => n + app.exits, 0);

    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const recoveryMs = recoveredAt - dbBackAt;
    out();
    out(
      `Phase 1: 1 process, ${sessions.length} users, ${s(phase1End - t0)} of traffic; SMTP refusing (451) ` +
        `from +${s(smtpRefusedAt - t0)} for ${s(SMTP_REFUSAL_MS)}; PostgreSQL stopped at +${s(dbStopAt - t0)}, ` +
        `back at +${s(dbBackAt - t0)} (${s(dbBackAt - dbStopAt)} away)`,
    );
    out(`  answers: ${t1.answers.length} (${tally(t1.answers)})`);
    out(
      `  during the outage: ${unavailable.length} × 503, ${unavailable.filter((x) => x.cleanUnavailable).length} of them clean HTML pages`,
    );
    out(
      `  unexpected answers: ${unexpected1.length} ${tally(unexpected1) ? `(${tally(unexpected1)})` : ''}`,
    );
    out(
      `  recovery: first page served ${s(recoveryMs)} after PostgreSQL was back (limit ${s(RECOVERY_LIMIT_MS)})`,
    );
    out(
      `  acknowledged writes: ${writes1.creates} tickets, ${writes1.replies} replies; in the database: ` +
        `${writes1.createsFound} tickets, ${writes1.repliesFound} replies`,
    );
    out(`  stale replies refused (409): ${t1.conflicts}`);
    out(`Phase 2: 2 processes, same database, ${sessions.length} users, ${s(SECONDS_TWO * 1000)}`);
    out(
      `  answers: ${t2.answers.length} (${tally(t2.answers)}); unexpected: ${unexpected2.length}`,
    );
    out(
      `  acknowledged writes: ${writes2.creates} tickets, ${writes2.replies} replies; in the database: ` +
        `${writes2.createsFound} tickets, ${writes2.repliesFound} replies`,
    );
    out(
      `  stale replies refused (409): ${t2.conflicts}; replies recorded on a shared version: ${writes2.sharedVersions}; ` +
        `tickets whose version is out of step with their timeline: ${writes2.outOfStep}`,
    );
    out(
      `Emails (both phases): ${emails.written} written, ${emails.sent} sent, ${emails.failed} failed, ` +
        `${emails.stillWaiting} still waiting after ${s(emails.drainedInMs)}; SMTP received ${emails.received} ` +
        `(${emails.distinct} distinct Message-IDs, ${emails.duplicates} duplicates, ${smtp.refused} refused while refusing); ` +
        `sent but not received: ${emails.notReceived}`,
    );
    out(`App process restarts: ${restarts}`);

    const checks: [string, boolean][] = [
      ['no unexpected answer (phase 1)', unexpected1.length === 0],
      ['every outage error is a clean 503 page', unavailable.every((x) => x.cleanUnavailable)],
      [`recovery within ${s(RECOVERY_LIMIT_MS)}`, recoveryMs <= RECOVERY_LIMIT_MS],
      [
        'every acknowledged write found (phase 1)',
        writes1.createsFound === writes1.creates && writes1.repliesFound === writes1.replies,
      ],
      ['no unexpected answer (phase 2)', unexpected2.length === 0],
      [
        'every acknowledged write found (phase 2)',
        writes2.createsFound === writes2.creates && writes2.repliesFound === writes2.replies,
      ],
      ['no lost update', writes1.sharedVersions + writes2.sharedVersions + writes2.outOfStep === 0],
      [
        'every email sent, exactly once',
        emails.stillWaiting === 0 &&
          emails.failed === 0 &&
          emails.notReceived === 0 &&
          emails.duplicates === 0,
      ],
      ['no process restart', restarts === 0],
      [
        'writes happened in both phases',
        writes1.creates > 0 && writes1.replies > 0 && writes2.creates > 0 && writes2.replies > 0,
      ],
    ];
    for (const [name, ok] of checks) out(`  ${ok ? 'pass' : 'FAIL'}  ${name}`);
    out(`RESULT: ${checks.every(([, ok]) => ok) ? 'PASS' : 'FAIL'}`);
    for (const x of [...unexpected1, ...unexpected2].slice(0, 10)) {
      out(
        `  unexpected: ${x.method} ${x.kind} → ${x.status || x.error} at +${s(x.startedAt - t0)}, ` +
          `answered after ${x.endedAt - x.startedAt} ms (${x.base})${x.excerpt ? `: ${x.excerpt}` : ''}`,
      );
    }

    expect(checks.filter(([, ok]) => !ok).map(([name]) => name)).toEqual([]);
    failed = false;
  });
});
