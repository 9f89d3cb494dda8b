import { createTestContext, type TestContext } from '../support/app';
import { csrfFrom, loginAs, newAgent, postMultipart, type Agent } from '../support/agent';
import { createUser, type TestUser } from '../support/factories';

/**
 * The permission matrix of DESIGN.md §7: who may do what on a ticket, for the requester, another
 * employee, a technician and an admin. Any change in a cell fails this test.
 */
let ctx: TestContext;
const users: Record<string, TestUser> = {};
const agents: Record<string, Agent> = {};
const WHO = ['requester', 'other_employee', 'technician', 'admin'] as const;
type Who = (typeof WHO)[number];

beforeAll(async () => {
  ctx = await createTestContext();
  users.requester = await createUser(ctx.db);
  users.other_employee = await createUser(ctx.db);
  users.technician = await createUser(ctx.db, { role: 'technician' });
  users.admin = await createUser(ctx.db, { role: 'admin' });
  for (const who of WHO) {
    agents[who] = newAgent(ctx.app);
    await loginAs(agents[who], users[who]);
  }
});
afterAll(() => ctx.close());

async function freshTicket(status = 'new'): Promise<{ id: number; attachmentId: number }> {
  const res = await postMultipart(
    agents.requester,
    '/tickets',
    { title: 'Écran noir', description: 'Plus rien ne s’affiche.' },
    [{ name: 'photo.txt', content: 'preuve' }],
    { from: '/tickets/new' },
  );
  const id = Number(/\/tickets\/(\d+)/.exec(res.headers.location)![1]);
  if (status !== 'new') await ctx.db('tickets').where({ id }).update({ status });
  const file = await ctx.db('attachments').where({ ticket_id: id }).first();
  return { id, attachmentId: file.id };
}

type Action = (
  who: Who,
  id: number,
  extra: { attachmentId: number; version: number },
) => Promise<number>;

async function post(who: Who, path: string, fields: Record<string, string>): Promise<number> {
  const token = await csrfFrom(agents[who], '/account');
  const res = await agents[who]
    .post(path)
    .type('form')
    .send({ ...fields, _csrf: token });
  return res.status;
}

const ACTIONS: Record<string, { status?: string; run: Action }> = {
  'view ticket': { run: async (who, id) => (await agents[who].get(`/tickets/${id}`)).status },
  'download attachment': {
    run: async (who, _id, x) => (await agents[who].get(`/attachments/${x.attachmentId}`)).status,
  },
  'public reply': {
    run: async (who, id, x) =>
      (
        await postMultipart(
          agents[who],
          `/tickets/${id}/replies`,
          {
            version: String(x.version),
            body: 'Une réponse',
          },
          [],
          { from: '/account' },
        )
      ).status,
  },
  'internal note': {
    run: async (who, id, x) =>
      (
        await postMultipart(
          agents[who],
          `/tickets/${id}/replies`,
          {
            version: String(x.version),
            body: 'Une note',
            internal: '1',
          },
          [],
          { from: '/account' },
        )
      ).status,
  },
  'set in progress': {
    run: (who, id, x) =>
      post(who, `/tickets/${id}/status`, { version: String(x.version), status: 'in_progress' }),
  },
  'confirm resolved': {
    status: 'resolved',
    run: (who, id, x) =>
      post(who, `/tickets/${id}/status`, { version: String(x.version), status: 'closed' }),
  },
  'reopen resolved': {
    status: 'resolved',
    run: (who, id, x) =>
      post(who, `/tickets/${id}/status`, { version: String(x.version), status: 'in_progress' }),
  },
  'change priority': {
    run: (who, id, x) =>
      post(who, `/tickets/${id}/fields`, { version: String(x.version), priority: 'urgent' }),
  },
  'take it': {
    run: (who, id, x) => post(who, `/tickets/${id}/take`, { version: String(x.version) }),
  },
};

// 200 = shown, 302 = done (redirect after POST), 403 = refused, 404 = hidden, 422 = not allowed now.
const EXPECTED: Record<string, Record<Who, number>> = {
  'view ticket': { requester: 200, other_employee: 404, technician: 200, admin: 200 },
  'download attachment': { requester: 200, other_employee: 404, technician: 200, admin: 200 },
  'public reply': { requester: 302, other_employee: 404, technician: 302, admin: 302 },
  'internal note': { requester: 403, other_employee: 404, technician: 302, admin: 302 },
  'set in progress': { requester: 403, other_employee: 404, technician: 302, admin: 302 },
  'confirm resolved': { requester: 302, other_employee: 404, technician: 302, admin: 302 },
  'reopen resolved': { requester: 302, other_employee: 404, technician: 302, admin: 302 },
  'change priority': { requester: 403, other_employee: 404, technician: 302, admin: 302 },
  'take it': { requester: 403, other_employee: 404, technician: 302, admin: 302 },
};

describe('permission matrix', () => {
  test('when each role tries each action on a ticket, then the answers match the matrix and refusals change nothing', async () => {
    const actual: Record<string, Record<string, number>> = {};
    const leaks: string[] = [];
    for (const [name, action] of Object.entries(ACTIONS)) {
      actual[name] = {};
      for (const who of WHO) {
        const { id, attachmentId } = await freshTicket(action.status);
        const before = await ctx.db('tickets').where({ id }).first();
        const eventsBefore = await ctx
          .db('ticket_events')
          .where({ ticket_id: id })
          .count('* as n')
          .first();
        actual[name][who] = await action.run(who, id, { attachmentId, version: before.version });
        if (actual[name][who] >= 400) {
          const after = await ctx.db('tickets').where({ id }).first();
          const eventsAfter = await ctx
            .db('ticket_events')
            .where({ ticket_id: id })
            .count('* as n')
            .first();
          if (after.version !== before.version || eventsAfter?.n !== eventsBefore?.n) {
            leaks.push(`${name} by ${who} changed the ticket despite ${actual[name][who]}`);
          }
        }
      }
    }
    expect(actual).toEqual(EXPECTED);
    expect(leaks).toEqual([]);
  });

  test('when another employee lists or searches, then the ticket never appears', async () => {
    const { id } = await freshTicket();
    const list = await agents.other_employee.get('/tickets');
    expect(list.text).not.toContain(`/tickets/${id}"`);
    const search = await agents.other_employee.get('/tickets?q=écran');
    expect(search.text).not.toContain(`/tickets/${id}"`);
    const jump = await agents.other_employee.get(`/tickets?q=%23${id}`);
    expect(jump.status).toBe(200);
    expect(jump.text).not.toContain(`/tickets/${id}"`);
  });

  test('when an employee tries staff filters, then they still see only their own tickets', async () => {
    const { id } = await freshTicket();
    const res = await agents.other_employee.get(
      `/tickets?status=new&requester=${users.requester.id}&assignee=none`,
    );
    expect(res.status).toBe(200);
    expect(res.text).not.toContain(`/tickets/${id}"`);
  });
});
