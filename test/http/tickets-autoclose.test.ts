import pg from 'pg';
import pino from 'pino';
import { Logger, quickAddJob, runOnce } from 'graphile-worker';
import { paths } from '../../src/app';
import { taskList } from '../../src/jobs/worker';
import { fileMailer } from '../../src/notifications/mailer';
import { createOutbox } from '../../src/notifications/outbox';
import { autoCloseResolved } from '../../src/tickets/tickets.service';
import { createTestContext, type TestContext } from '../support/app';
import { loginAs, newAgent, postMultipart, type Agent } from '../support/agent';
import { createUser } from '../support/factories';

let ctx: TestContext;
let emp: Agent;
const DAY = 24 * 3600 * 1000;
const NOW = new Date('2026-11-24T09:00:00Z');

beforeAll(async () => {
  ctx = await createTestContext();
  emp = newAgent(ctx.app);
  await loginAs(emp, await createUser(ctx.db));
});
afterAll(() => ctx.close());

/** The app's job tasks on this file's database, with the clock frozen at NOW. */
function tasks() {
  const silent = pino({ level: 'silent' });
  return taskList({
    db: ctx.db,
    logger: silent,
    clock: () => NOW,
    autoCloseDays: 7,
    mailer: fileMailer(ctx.config.email, silent),
    outbox: createOutbox(ctx.config, paths.views),
  });
}

async function resolvedDaysAgo(days: number): Promise<number> {
  const res = await postMultipart(
    emp,
    '/tickets',
    { title: `Résolu il y a ${days} j`, description: 'x' },
    [],
    { from: '/tickets/new' },
  );
  const id = Number(/\/tickets\/(\d+)/.exec(res.headers.location)![1]);
  await ctx
    .db('tickets')
    .where({ id })
    .update({ status: 'resolved', resolved_at: new Date(NOW.getTime() - days * DAY) });
  return id;
}

describe('auto-close', () => {
  test('when a ticket was resolved more than AUTO_CLOSE_DAYS ago, then it closes, recorded as done by the system', async () => {
    const old = await resolvedDaysAgo(8);
    const recent = await resolvedDaysAgo(6);

    const closed = await autoCloseResolved(ctx.db, NOW, 7);

    expect(closed).toContain(old);
    expect(closed).not.toContain(recent);
    const row = await ctx.db('tickets').where({ id: old }).first();
    expect(row.status).toBe('closed');
    expect(row.closed_at.toISOString()).toBe(NOW.toISOString());
    const event = await ctx
      .db('ticket_events')
      .where({ ticket_id: old, type: 'ticket.status_changed' })
      .first();
    expect(event).toMatchObject({ actor_id: null, from_value: 'resolved', to_value: 'closed' });
    expect((await ctx.db('tickets').where({ id: recent }).first()).status).toBe('resolved');
    const page = await emp.get(`/tickets/${old}`);
    expect(page.text).toContain('Guichet (automatique) a changé le statut : Résolu → Fermé');
  });

  test('when the job queue runs the auto-close task, then due tickets close', async () => {
    const id = await resolvedDaysAgo(30);
    const pool = new pg.Pool({ connectionString: ctx.database.connectionString, max: 2 });
    try {
      const list = tasks();
      const logger = new Logger(() => () => undefined);
      await quickAddJob({ pgPool: pool, logger }, 'auto_close_tickets', {});
      await runOnce({ pgPool: pool, taskList: list, logger });
    } finally {
      await pool.end();
    }
    expect((await ctx.db('tickets').where({ id }).first()).status).toBe('closed');
  });
});

describe('housekeeping', () => {
  test('when the hourly housekeeping runs, then expired throttle counters and old password links go, live ones stay', async () => {
    const user = await createUser(ctx.db);
    await ctx.db('rate_limits').insert([
      { key: 'login:account:old', points: 3, expire: Date.now() - 1000 },
      { key: 'login:account:live', points: 3, expire: Date.now() + 600000 },
    ]);
    await ctx.db('password_tokens').insert([
      {
        user_id: user.id,
        token_hash: 'a'.repeat(64),
        purpose: 'reset',
        expires_at: new Date(Date.now() - 40 * DAY),
      },
      {
        user_id: user.id,
        token_hash: 'b'.repeat(64),
        purpose: 'reset',
        expires_at: new Date(Date.now() + DAY),
      },
    ]);
    const list = tasks();
    await (list.housekeeping as () => Promise<void>)();
    expect(
      (await ctx.db('rate_limits').whereIn('key', ['login:account:old', 'login:account:live'])).map(
        (r) => r.key,
      ),
    ).toEqual(['login:account:live']);
    expect(
      (await ctx.db('password_tokens').where({ user_id: user.id })).map((r) => r.token_hash),
    ).toEqual(['b'.repeat(64)]);
  });
});
