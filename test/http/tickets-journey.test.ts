import { createTestContext, type TestContext } from '../support/app';
import {
  loginAs,
  newAgent,
  postForm,
  postMultipart,
  versionOf,
  type Agent,
} from '../support/agent';
import { createUser, type TestUser } from '../support/factories';

let ctx: TestContext;
let employee: TestUser;
let technician: TestUser;
let emp: Agent;
let tech: Agent;
let categoryId: number;

beforeAll(async () => {
  ctx = await createTestContext();
  employee = await createUser(ctx.db, { name: 'Camille Martin' });
  technician = await createUser(ctx.db, { role: 'technician', name: 'Théo Tech' });
  [categoryId] = (
    await ctx.db('categories').insert({ name: 'Imprimantes', position: 1 }).returning('id')
  ).map((r) => r.id);
  emp = newAgent(ctx.app);
  tech = newAgent(ctx.app);
  await loginAs(emp, employee);
  await loginAs(tech, technician);
});
afterAll(() => ctx.close());

const idFrom = (location: string) => Number(/\/tickets\/(\d+)/.exec(location)![1]);

describe('the journey of a ticket, without email', () => {
  test('when an employee files, a technician works it and the employee confirms, then it ends closed', async () => {
    // The employee files a ticket with an attachment.
    const created = await postMultipart(
      emp,
      '/tickets',
      {
        title: 'Les imprimantes du 2e étage ne répondent plus',
        description: 'Depuis ce matin, impossible d’imprimer depuis le réseau.',
        category_id: String(categoryId),
        priority: 'high',
      },
      [{ name: 'erreur.txt', content: 'Erreur 0x0000011b\n', type: 'text/plain' }],
      { from: '/tickets/new' },
    );
    expect(created.status).toBe(302);
    const id = idFrom(created.headers.location);
    const page = await emp.get(`/tickets/${id}`);
    expect(page.text).toContain(`Ticket #${id} créé.`);
    expect(page.text).toContain('erreur.txt');

    // The technician finds it by filter and by search.
    const filtered = await tech.get(
      `/tickets?status=new&priority=high&category=${categoryId}&assignee=none`,
    );
    expect(filtered.text).toContain(`/tickets/${id}"`);
    const searched = await tech.get('/tickets?q=imprimante%20reseau');
    expect(searched.text).toContain(`/tickets/${id}"`);
    expect(searched.text).toContain('<mark>');

    // Takes it, writes a note and a reply that sets it waiting.
    const take = await postForm(
      tech,
      `/tickets/${id}/take`,
      { version: await versionOf(tech, id) },
      { from: `/tickets/${id}` },
    );
    expect(take.status).toBe(302);
    const note = await postMultipart(
      tech,
      `/tickets/${id}/replies`,
      {
        version: await versionOf(tech, id),
        body: 'Le spouleur est planté sur PRN-02, à redémarrer ce soir.',
        internal: '1',
      },
      [],
      { from: `/tickets/${id}` },
    );
    expect(note.status).toBe(302);
    const reply = await postMultipart(
      tech,
      `/tickets/${id}/replies`,
      {
        version: await versionOf(tech, id),
        body: 'Pouvez-vous essayer d’imprimer une page de test ?',
        status: 'waiting',
      },
      [],
      { from: `/tickets/${id}` },
    );
    expect(reply.status).toBe(302);
    let row = await ctx.db('tickets').where({ id }).first();
    expect(row).toMatchObject({ status: 'waiting', assignee_id: technician.id });
    expect(row.first_response_at).not.toBeNull();

    // The employee sees the reply, not the note, and answers: back in progress.
    const seen = await emp.get(`/tickets/${id}`);
    expect(seen.text).toContain('Pouvez-vous essayer d’imprimer une page de test ?');
    expect(seen.text).not.toContain('spouleur');
    expect(seen.text).not.toContain('Note interne');
    const answer = await postMultipart(
      emp,
      `/tickets/${id}/replies`,
      {
        version: await versionOf(emp, id),
        body: 'La page de test ne sort pas non plus.',
      },
      [],
      { from: `/tickets/${id}` },
    );
    expect(answer.status).toBe(302);
    expect((await ctx.db('tickets').where({ id }).first()).status).toBe('in_progress');

    // The technician resolves it; the employee confirms: closed.
    const resolve = await postForm(
      tech,
      `/tickets/${id}/fields`,
      {
        version: await versionOf(tech, id),
        status: 'resolved',
        priority: 'high',
        category_id: String(categoryId),
        assignee_id: String(technician.id),
      },
      { from: `/tickets/${id}` },
    );
    expect(resolve.status).toBe(302);
    const resolvedPage = await emp.get(`/tickets/${id}`);
    expect(resolvedPage.text).toContain('C’est réglé');
    expect(resolvedPage.text).toContain('Le problème persiste');
    const confirm = await postForm(
      emp,
      `/tickets/${id}/status`,
      {
        version: await versionOf(emp, id),
        status: 'closed',
      },
      { from: `/tickets/${id}` },
    );
    expect(confirm.status).toBe(302);
    row = await ctx.db('tickets').where({ id }).first();
    expect(row.status).toBe('closed');
    expect(row.resolved_at).not.toBeNull();
    expect(row.closed_at).not.toBeNull();

    // The whole timeline is there for staff, in order.
    const events = await ctx
      .db('ticket_events')
      .where({ ticket_id: id })
      .orderBy('id')
      .select('type', 'from_value', 'to_value', 'internal');
    expect(events.map((e) => e.type)).toEqual([
      'ticket.created',
      'ticket.assigned',
      'note.added',
      'comment.added',
      'ticket.status_changed',
      'comment.added',
      'ticket.status_changed',
      'ticket.status_changed',
      'ticket.status_changed',
    ]);
    expect(
      events
        .filter((e) => e.type === 'ticket.status_changed')
        .map((e) => `${e.from_value}→${e.to_value}`),
    ).toEqual(['new→waiting', 'waiting→in_progress', 'in_progress→resolved', 'resolved→closed']);
    const staffPage = await tech.get(`/tickets/${id}`);
    expect(staffPage.text).toContain('spouleur');
    expect(staffPage.text).toContain('Note interne');
  });

  test('when the employee says it is still a problem, then the ticket is back in progress with the reply', async () => {
    const created = await postMultipart(
      emp,
      '/tickets',
      { title: 'VPN coupe', description: 'Toutes les 5 minutes.', priority: 'normal' },
      [],
      { from: '/tickets/new' },
    );
    const id = idFrom(created.headers.location);
    await postForm(
      tech,
      `/tickets/${id}/status`,
      { version: await versionOf(tech, id), status: 'resolved' },
      { from: `/tickets/${id}` },
    );
    const res = await postMultipart(
      emp,
      `/tickets/${id}/replies`,
      {
        version: await versionOf(emp, id),
        status: 'in_progress',
        body: 'Ça coupe encore.',
      },
      [],
      { from: `/tickets/${id}` },
    );
    expect(res.status).toBe(302);
    const row = await ctx.db('tickets').where({ id }).first();
    expect(row.status).toBe('in_progress');
    expect(row.resolved_at).toBeNull();
  });
});

describe("the requester's other open tickets", () => {
  test('when a technician opens a ticket, then the side panel lists the requester’s other open tickets, latest activity first; the requester sees no panel', async () => {
    const requester = await createUser(ctx.db, { name: 'Inès Roy' });
    const agent = newAgent(ctx.app);
    await loginAs(agent, requester);
    const file = async (title: string) =>
      idFrom(
        (
          await postMultipart(
            agent,
            '/tickets',
            { title, description: 'Détails.', priority: 'normal' },
            [],
            { from: '/tickets/new' },
          )
        ).headers.location,
      );
    const shown = await file('Écran qui clignote');
    const older = await file('Clavier sans accents');
    const newer = await file('Badge refusé');
    const done = await file('Mot de passe oublié');
    await ctx.db('tickets').where({ id: done }).update({ status: 'resolved' });
    await ctx
      .db('tickets')
      .where({ id: older })
      .update({ last_activity_at: new Date(Date.now() - 3600_000) });

    const page = await tech.get(`/tickets/${shown}`).expect(200);
    const panel = page.text.slice(page.text.indexOf('Ses autres tickets ouverts'));
    const links = [...panel.matchAll(/<li><a href="\/tickets\/(\d+)">/g)].map((m) => Number(m[1]));
    expect(links).toEqual([newer, older]);

    const own = await agent.get(`/tickets/${shown}`).expect(200);
    expect(own.text).not.toContain('Ses autres tickets ouverts');
  });
});
