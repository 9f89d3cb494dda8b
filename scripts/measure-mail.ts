/**
 * Email delivery under load and through an SMTP outage, against the real app (dist/), a real
 * PostgreSQL and a real SMTP server on loopback:
 *
 *   npm run build && npx tsx scripts/measure-mail.ts --db postgres://postgres@127.0.0.1:5432/postgres \
 *     [--tickets 1000] [--outage-seconds 120]
 *
 * Creates a throw-away database, starts Guichet on it, files N tickets through HTTP as an
 * employee (10 at a time), and measures how long the outbox takes to drain. With
 * --outage-seconds, the SMTP server answers 451 for that long while tickets and replies are
 * written, then accepts. Prints the figures; exits non-zero if an email is missing or doubled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { hash, Algorithm } from '@node-rs/argon2';
import knex from 'knex';
import pg from 'pg';
import { TestSmtpServer } from '../test/support/smtp';

const args = process.argv.slice(2);
const opt = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const ADMIN_URL = opt(
  'db',
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
);
const TICKETS = Number(opt('tickets', '1000'));
const OUTAGE_S = Number(opt('outage-seconds', '0'));
const PORT = 3600 + Math.floor(Math.random() * 300);
const BASE = `http://127.0.0.1:${PORT}`;

async function adminQuery(sql: string) {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

function cookieJar() {
  let cookie = '';
  return async (url: string, init: RequestInit = {}) => {
    const res = await fetch(`${BASE}${url}`, {
      ...init,
      redirect: 'manual',
      headers: { ...(init.headers ?? {}), cookie, origin: BASE },
    });
    const set = res.headers.get('set-cookie');
    if (set) cookie = set.split(';')[0];
    return res;
  };
}

async function csrf(get: ReturnType<typeof cookieJar>, url: string) {
  const html = await (await get(url)).text();
  return /name="_csrf" value="([^"]+)"/.exec(html)![1];
}

async function main() {
  const name = `guichet_mail_${crypto.randomBytes(3).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${name}`;
  const smtp = await new TestSmtpServer().start();
  if (OUTAGE_S) smtp.refuseWith(451);
  let app: ChildProcess | null = null;
  try {
    app = spawn(process.execPath, [path.join(__dirname, '..', 'dist', 'src', 'server.js')], {
      env: {
        ...process.env,
        DATABASE_URL: dbUrl.toString(),
        PORT: String(PORT),
        APP_URL: BASE,
        NODE_ENV: 'production',
        SECRET_KEY: crypto.randomBytes(32).toString('hex'),
        LOG_LEVEL: 'warn',
        SMTP_SERVER: '127.0.0.1',
        SMTP_PORT: String(smtp.port),
        USE_TLS: 'false',
        SENDER_EMAIL: 'it@example.com',
        DATA_DIR: `/tmp/${name}`,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    for (let i = 0; ; i++) {
      const ok = await fetch(`${BASE}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      if (i > 300) throw new Error('Guichet did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const db = knex({ client: 'pg', connection: dbUrl.toString() });
    const pw = await hash('measure-password', { algorithm: Algorithm.Argon2id });
    await db('users').insert([
      { email: 'emp@example.com', name: 'Employé', role: 'employee', password_hash: pw },
      { email: 'tech1@example.com', name: 'Tech 1', role: 'technician', password_hash: pw },
      { email: 'tech2@example.com', name: 'Tech 2', role: 'technician', password_hash: pw },
    ]);
    const emp = cookieJar();
    const token = await csrf(emp, '/login');
    await emp('/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        _csrf: token,
        email: 'emp@example.com',
        password: 'measure-password',
      }),
    });
    const formToken = await csrf(emp, '/tickets/new');

    const started = Date.now();
    let created = 0;
    const ids: number[] = [];
    const file = async () => {
      while (created < TICKETS) {
        const n = created++;
        const body = new FormData();
        body.set('_csrf', formToken);
        body.set('title', `Panne numéro ${n}`);
        body.set('description', 'Mesure de la livraison des e-mails.');
        const res = await emp(`/tickets?_csrf=${encodeURIComponent(formToken)}`, {
          method: 'POST',
          body,
        });
        if (res.status !== 302) throw new Error(`create failed: ${res.status}`);
        ids.push(Number(/\/tickets\/(\d+)/.exec(res.headers.get('location')!)![1]));
      }
    };
    await Promise.all(Array.from({ length: 10 }, file));
    const createdIn = Date.now() - started;
    if (OUTAGE_S) {
      const until = started + OUTAGE_S * 1000;
      process.stdout.write(
        `tickets filed in ${createdIn} ms; SMTP refusing (451) until +${OUTAGE_S}s\n`,
      );
      while (Date.now() < until) await new Promise((r) => setTimeout(r, 500));
      smtp.accept();
    }
    const upAt = Date.now();
    const expected = Number((await db('notifications').count('* as n').first())!.n);
    await smtp.waitFor(() => smtp.received.length >= expected, 30 * 60_000);
    const drained = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    const messageIds = smtp.received.map((m) => m.parsed.messageId);
    const duplicates = messageIds.length - new Set(messageIds).size;
    const retried = Number(
      (await db('notifications').where('attempts', '>', 1).count('* as n').first())!.n,
    );
    const unsent = Number(
      (await db('notifications').whereNot('status', 'sent').count('* as n').first())!.n,
    );
    let outOfOrder = 0;
    const written = await db('notifications').orderBy('id').select('ticket_id', 'message_id');
    const order = new Map<number, string[]>();
    for (const w of written)
      order.set(Number(w.ticket_id), [...(order.get(Number(w.ticket_id)) ?? []), w.message_id]);
    const arrivedByTicket = new Map<number, string[]>();
    for (const m of smtp.received) {
      const id = Number(/\[#(\d+)\]/.exec(m.parsed.subject ?? '')?.[1]);
      arrivedByTicket.set(id, [...(arrivedByTicket.get(id) ?? []), m.parsed.messageId!]);
    }
    for (const [id, list] of order)
      if (JSON.stringify(list) !== JSON.stringify(arrivedByTicket.get(id))) outOfOrder++;
    await db.destroy();
    const lines = [
      `tickets filed:            ${ids.length} in ${createdIn} ms (${Math.round((ids.length / createdIn) * 1000)}/s, 10 at a time)`,
      `emails written:           ${expected}`,
      `emails received:          ${smtp.received.length} (duplicates: ${duplicates}, refused while down: ${smtp.refused})`,
      `outbox drained:           ${drained - (OUTAGE_S ? upAt : started)} ms after ${OUTAGE_S ? 'SMTP came back' : 'the first ticket'}`,
      `rows retried (attempts>1): ${retried}; rows not sent: ${unsent}; tickets out of order: ${outOfOrder}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    if (duplicates || unsent || outOfOrder || smtp.received.length !== expected)
      process.exitCode = 1;
  } finally {
    app?.kill('SIGTERM');
    await smtp.stop();
    await new Promise((r) => setTimeout(r, 1000));
    await adminQuery(`drop database if exists ${name} with (force)`);
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
