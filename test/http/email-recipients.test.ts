/**
 * The people a ticket's emails go to are read inside the ticket's transaction, on its one
 * connection: one query after another, never two queued on it at once (which pg deprecates
 * and pg@9 refuses).
 */
import pg from 'pg';
import { createTestContext, type TestContext } from '../support/app';
import { loginAs, newAgent, postMultipart } from '../support/agent';
import { createUser } from '../support/factories';

let ctx: TestContext;

/** pg's own record of a client's queries: the one running, and those waiting behind it. */
type Queries = { _activeQuery: unknown; _queryQueue: unknown[] };
const query = pg.Client.prototype.query;
/** Queries sent to a connection while it was still running another. */
const queuedBehind: string[] = [];

beforeAll(async () => {
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const self = this as unknown as Queries;
    if (self._activeQuery || self._queryQueue.length) {
      const q = args[0] as string | { text: string };
      queuedBehind.push(typeof q === 'string' ? q : q.text);
    }
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  ctx = await createTestContext();
});
afterAll(async () => {
  pg.Client.prototype.query = query;
  await ctx.close();
});

test('filing a ticket in a category with a default assignee reads its recipients one query at a time', async () => {
  const employee = await createUser(ctx.db, { name: 'Camille Martin' });
  const tech = await createUser(ctx.db, { role: 'technician', name: 'Théo Tech' });
  const [category] = await ctx
    .db('categories')
    .insert({ name: 'Réseau', active: true, default_assignee_id: tech.id })
    .returning('id');
  const agent = newAgent(ctx.app);
  await loginAs(agent, employee);

  const created = await postMultipart(
    agent,
    '/tickets',
    { title: 'Wi-Fi en panne', description: 'Plus de réseau.', category_id: String(category.id) },
    [],
    { from: '/tickets/new' },
  );
  expect(created.status).toBe(302);
  const id = Number(/\/tickets\/(\d+)/.exec(created.headers.location)![1]);
  const ticket = await ctx.db('tickets').where({ id }).first();
  expect(ticket.assignee_id).toBe(tech.id);
  // The acknowledgement to the requester and the news to the assignee are filed.
  const emails = await ctx.db('notifications').where({ ticket_id: id }).select('to_email');
  expect(emails.map((e) => e.to_email).sort()).toEqual([employee.email, tech.email].sort());

  expect(queuedBehind).toEqual([]);
});
