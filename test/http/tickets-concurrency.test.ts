import { createTestContext, type TestContext } from '../support/app';
import {
  csrfFrom,
  loginAs,
  newAgent,
  postMultipart,
  versionOf,
  type Agent,
} from '../support/agent';
import { createUser, type TestUser } from '../support/factories';

let ctx: TestContext;
let employee: TestUser;
let techA: TestUser;
let techB: TestUser;
let emp: Agent;
let a: Agent;
let b: Agent;

beforeAll(async () => {
  ctx = await createTestContext();
  employee = await createUser(ctx.db);
  techA = await createUser(ctx.db, { role: 'technician', name: 'Alice Tech' });
  techB = await createUser(ctx.db, { role: 'technician', name: 'Bruno Tech' });
  [emp, a, b] = [newAgent(ctx.app), newAgent(ctx.app), newAgent(ctx.app)];
  await loginAs(emp, employee);
  await loginAs(a, techA);
  await loginAs(b, techB);
});
afterAll(() => ctx.close());

async function newTicket(): Promise<number> {
  const res = await postMultipart(
    emp,
    '/tickets',
    { title: 'Souris cassée', description: 'Le clic droit ne marche plus.' },
    [],
    { from: '/tickets/new' },
  );
  return Number(/\/tickets\/(\d+)/.exec(res.headers.location)![1]);
}

describe('no lost updates', () => {
  test('when two technicians press "Take it" at the same moment, then exactly one gets it and one entry is written', async () => {
    const id = await newTicket();
    const version = await versionOf(a, id);
    const [tokenA, tokenB] = [
      await csrfFrom(a, `/tickets/${id}`),
      await csrfFrom(b, `/tickets/${id}`),
    ];
    const [ra, rb] = await Promise.all([
      a.post(`/tickets/${id}/take`).type('form').send({ _csrf: tokenA, version }),
      b.post(`/tickets/${id}/take`).type('form').send({ _csrf: tokenB, version }),
    ]);
    expect([ra.status, rb.status].sort()).toEqual([302, 409]);
    const assigned = await ctx
      .db('ticket_events')
      .where({ ticket_id: id, type: 'ticket.assigned' });
    expect(assigned).toHaveLength(1);
    const row = await ctx.db('tickets').where({ id }).first();
    expect([techA.id, techB.id]).toContain(row.assignee_id);
    expect(assigned[0].to_value).toBe(String(row.assignee_id));
    const loser = ra.status === 409 ? ra : rb;
    expect(loser.text).toContain('Le ticket a changé entre-temps');
  });

  test('when a reply is based on a stale page, then 409 shows what changed and keeps the text', async () => {
    const id = await newTicket();
    const seen = await versionOf(a, id);
    // Bruno changes the priority meanwhile.
    const token = await csrfFrom(b, `/tickets/${id}`);
    await b
      .post(`/tickets/${id}/fields`)
      .type('form')
      .send({ _csrf: token, version: seen, priority: 'urgent' });

    const res = await postMultipart(
      a,
      `/tickets/${id}/replies`,
      {
        version: seen,
        body: 'Je passe vous voir à 14 h avec une souris neuve.',
      },
      [],
      { from: `/tickets/${id}` },
    );

    expect(res.status).toBe(409);
    expect(res.text).toContain('Je passe vous voir à 14 h avec une souris neuve.');
    expect(res.text).toContain('Bruno Tech a changé la priorité : Normale → Urgente');
    expect(
      await ctx.db('ticket_events').where({ ticket_id: id, type: 'comment.added' }),
    ).toHaveLength(0);
    // The conflict page carries the current version: sending again works.
    const current = /name="version" value="(\d+)"/.exec(res.text)![1];
    const again = await postMultipart(
      a,
      `/tickets/${id}/replies`,
      { version: current, body: 'Je passe à 14 h.' },
      [],
      { from: `/tickets/${id}` },
    );
    expect(again.status).toBe(302);
  });

  test('when the assignee and category changed meanwhile, then the conflict page and the timeline name them', async () => {
    const id = await newTicket();
    const seen = await versionOf(a, id);
    const [category] = await ctx
      .db('categories')
      .insert({ name: 'Postes de travail' })
      .returning('id');
    const token = await csrfFrom(b, `/tickets/${id}`);
    await b
      .post(`/tickets/${id}/fields`)
      .type('form')
      .send({ _csrf: token, version: seen, category_id: category.id, assignee_id: techA.id })
      .expect(302);

    const res = await postMultipart(
      a,
      `/tickets/${id}/replies`,
      { version: seen, body: 'Je regarde.' },
      [],
      { from: `/tickets/${id}` },
    );

    expect(res.status).toBe(409);
    const said = [
      'Bruno Tech a changé la catégorie : aucune → Postes de travail',
      'Bruno Tech a assigné le ticket à Alice Tech',
    ];
    for (const line of said) expect(res.text).toContain(line);
    const page = await a.get(`/tickets/${id}`).expect(200);
    for (const line of said) expect(page.text).toContain(line);
  });

  test('when the requester answers a stale page, then the staff note made meanwhile stays hidden on the conflict page', async () => {
    const id = await newTicket();
    const seen = await versionOf(emp, id);
    await postMultipart(
      a,
      `/tickets/${id}/replies`,
      { version: seen, body: 'Note secrète sur le budget', internal: '1' },
      [],
      { from: `/tickets/${id}` },
    );
    const res = await postMultipart(
      emp,
      `/tickets/${id}/replies`,
      { version: seen, body: 'Toujours cassée.' },
      [],
      { from: `/tickets/${id}` },
    );
    expect(res.status).toBe(409);
    expect(res.text).toContain('Toujours cassée.');
    expect(res.text).not.toContain('Note secrète');
  });

  test('when ten replies arrive at once, then each is kept or refused cleanly, never lost silently', async () => {
    const id = await newTicket();
    const version = await versionOf(a, id);
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        postMultipart(a, `/tickets/${id}/replies`, { version, body: `Réponse ${i}` }, [], {
          from: `/tickets/${id}`,
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 302).length;
    const conflicts = results.filter((r) => r.status === 409).length;
    expect(ok).toBe(1);
    expect(conflicts).toBe(9);
    expect(
      await ctx.db('ticket_events').where({ ticket_id: id, type: 'comment.added' }),
    ).toHaveLength(1);
  });
});
