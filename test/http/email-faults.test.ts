import { spawn } from 'node:child_process';
import path from 'node:path';
import { sweep } from '../../src/notifications/delivery';
import { createTestContext, type TestContext } from '../support/app';
import { loginAs, newAgent, postMultipart, type Agent } from '../support/agent';
import { createUser, type TestUser } from '../support/factories';
import { TestSmtpServer } from '../support/smtp';
import { FAST_DELIVERY, startTestWorker } from '../support/worker';

let ctx: TestContext;
let smtp: TestSmtpServer;
let employee: TestUser;
let emp: Agent;

beforeAll(async () => {
  ctx = await createTestContext();
  smtp = await new TestSmtpServer().start();
  employee = await createUser(ctx.db);
  await createUser(ctx.db, { role: 'technician' });
  emp = newAgent(ctx.app);
  await loginAs(emp, employee);
});
afterAll(async () => {
  await smtp.stop();
  await ctx.close();
});
beforeEach(() => {
  smtp.clear();
  smtp.accept();
});

async function fileTickets(n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await postMultipart(
      emp,
      '/tickets',
      { title: `Panne ${i}`, description: 'x' },
      [],
      { from: '/tickets/new' },
    );
    ids.push(Number(/\/tickets\/(\d+)/.exec(res.headers.location)![1]));
  }
  return ids;
}

/** Message-IDs received more than once. */
const duplicates = () => {
  const ids = smtp.received.map((m) => m.parsed.messageId);
  return ids.filter((id, i) => ids.indexOf(id) !== i);
};

/**
 * Every email of these tickets is marked sent. The SMTP server has the last message a moment
 * before the worker records it: unsent rows get up to 5 s to settle before the check.
 */
async function expectAllSent(ticketIds: number[]): Promise<number> {
  const unsent = () =>
    ctx.db('notifications').whereIn('ticket_id', ticketIds).whereNot('status', 'sent');
  for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
    if (!(await unsent()).length) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const rows = await ctx.db('notifications').whereIn('ticket_id', ticketIds);
  expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);
  return rows.length;
}

describe('email delivery under faults', () => {
  test('when the SMTP server answers 451 for a while, then every email arrives exactly once, in order per ticket', async () => {
    smtp.refuseWith(451);
    const worker = await startTestWorker(ctx, smtp.port);
    try {
      const ids = await fileTickets(3);
      await smtp.waitFor(() => smtp.refused >= 4);
      smtp.accept();
      const expected = await ctx
        .db('notifications')
        .whereIn('ticket_id', ids)
        .count('* as n')
        .first();
      await smtp.waitFor(() => smtp.received.length === Number(expected!.n));
      expect(duplicates()).toEqual([]);
      await expectAllSent(ids);
      const retried = await ctx
        .db('notifications')
        .whereIn('ticket_id', ids)
        .where('attempts', '>', 1);
      expect(retried.length).toBeGreaterThan(0);
      // Per ticket, emails left in the order they were written.
      for (const id of ids) {
        const written = (await ctx.db('notifications').where({ ticket_id: id }).orderBy('id')).map(
          (r) => r.message_id,
        );
        const arrived = smtp.received
          .filter((m) => m.parsed.subject?.startsWith(`[#${id}]`))
          .map((m) => m.parsed.messageId);
        expect(arrived).toEqual(written);
      }
    } finally {
      await worker.stop();
    }
  });

  test('when the server refuses an address for good (550), then that email is marked failed and the next ones still go', async () => {
    smtp.refuseWith(550, 1);
    const worker = await startTestWorker(ctx, smtp.port);
    try {
      const [id] = await fileTickets(1);
      const written = await ctx
        .db('notifications')
        .where({ ticket_id: id })
        .count('* as n')
        .first();
      await smtp.waitFor(
        () => smtp.refused === 1 && smtp.received.length === Number(written!.n) - 1,
      );
      const rows = await ctx.db('notifications').where({ ticket_id: id }).orderBy('id');
      const failed = rows.filter((r) => r.status === 'failed');
      expect(failed.length).toBeGreaterThan(0);
      expect(failed[0].attempts).toBe(1);
      expect(failed[0].last_error).toContain('550');
    } finally {
      await worker.stop();
    }
  });

  test('when two app processes deliver from the same database, then nobody gets an email twice', async () => {
    const a = await startTestWorker(ctx, smtp.port);
    const b = await startTestWorker(ctx, smtp.port);
    try {
      const ids = await fileTickets(15);
      const expected = await ctx
        .db('notifications')
        .whereIn('ticket_id', ids)
        .count('* as n')
        .first();
      await smtp.waitFor(() => smtp.received.length >= Number(expected!.n), 20000);
      await new Promise((r) => setTimeout(r, 300));
      expect(smtp.received).toHaveLength(Number(expected!.n));
      expect(duplicates()).toEqual([]);
      await expectAllSent(ids);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  test('when the delivering process is killed mid-send and another starts, then nothing is lost and nothing doubled', async () => {
    const ids = await fileTickets(2);
    // The server stalls: the killed process never hears an answer.
    smtp.refuseWith(451);
    const child = spawn(
      process.execPath,
      // `node --import tsx`: one process, so SIGKILL kills the worker itself (the tsx CLI
      // would leave its child running).
      [
        '--import',
        'tsx',
        path.join(__dirname, '../support/worker-main.ts'),
        ctx.database.connectionString,
        String(smtp.port),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await smtp.waitFor(() => smtp.refused >= 1, 20000);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    smtp.accept();
    const worker = await startTestWorker(ctx, smtp.port);
    try {
      // What the every-minute sweeper does, once rows left "sending" are stale.
      await new Promise((r) => setTimeout(r, FAST_DELIVERY.staleSendingMs + 200));
      await sweep(ctx.db, FAST_DELIVERY);
      const expected = await ctx
        .db('notifications')
        .whereIn('ticket_id', ids)
        .count('* as n')
        .first();
      await smtp.waitFor(() => smtp.received.length >= Number(expected!.n), 20000);
      expect(duplicates()).toEqual([]);
      await expectAllSent(ids);
    } finally {
      await worker.stop();
    }
  });
});
