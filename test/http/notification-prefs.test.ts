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
let technician: TestUser;
let tech: Agent;

beforeAll(async () => {
  ctx = await createTestContext();
  technician = await createUser(ctx.db, { role: 'technician' });
  tech = newAgent(ctx.app);
  await loginAs(tech, technician);
});
afterAll(() => ctx.close());

async function loggedIn(user: TestUser): Promise<Agent> {
  const agent = newAgent(ctx.app);
  await loginAs(agent, user);
  return agent;
}

const checkbox = (html: string, key: string) =>
  new RegExp(
    `<input type="checkbox" id="field-notify_${key}" name="notify_${key}" value="1" (checked)?`,
  ).exec(html);

const storedPrefs = async (id: number) =>
  (await ctx.db('users').where({ id }).first('notification_prefs')).notification_prefs;

/** The kinds of email queued for one person about one ticket. */
const kindsFor = async (ticketId: number, recipientId: number) =>
  (
    await ctx
      .db('notifications')
      .where({ ticket_id: ticketId, recipient_id: recipientId })
      .orderBy('id')
      .select('kind')
  ).map((r: { kind: string }) => r.kind);

async function fileTicket(agent: Agent, title: string): Promise<number> {
  const res = await postMultipart(
    agent,
    '/tickets',
    { title, description: 'Depuis ce matin.' },
    [],
    { from: '/tickets/new' },
  );
  expect(res.status).toBe(302);
  return Number(/\/tickets\/(\d+)/.exec(res.headers.location)![1]);
}

async function staffReply(ticketId: number, body: string) {
  const res = await postMultipart(
    tech,
    `/tickets/${ticketId}/replies`,
    { version: await versionOf(tech, ticketId), body },
    [],
    { from: `/tickets/${ticketId}` },
  );
  expect(res.status).toBe(302);
}

async function resolve(ticketId: number) {
  const res = await postForm(
    tech,
    `/tickets/${ticketId}/status`,
    { version: await versionOf(tech, ticketId), status: 'resolved' },
    { from: `/tickets/${ticketId}` },
  );
  expect(res.status).toBe(302);
}

describe('email preferences at /account', () => {
  test('when an employee opens their account, then the three options that can reach them are ticked', async () => {
    const employee = await createUser(ctx.db);
    const page = await (await loggedIn(employee)).get('/account');

    expect(page.text).toContain('E-mails que je reçois');
    for (const key of ['created', 'reply', 'status'])
      expect(checkbox(page.text, key)?.[1]).toBe('checked');
    expect(page.text).toContain('Accusé de réception de chaque ticket que j’ouvre');
    // Never assigned, never sent notes: no switch that would do nothing.
    expect(checkbox(page.text, 'assigned')).toBeNull();
    expect(checkbox(page.text, 'note')).toBeNull();
  });

  test('when a technician opens their account, then all five options show, in staff words', async () => {
    const page = await tech.get('/account');
    for (const key of ['created', 'assigned', 'reply', 'status', 'note'])
      expect(checkbox(page.text, key)?.[1]).toBe('checked');
    expect(page.text).toContain('Nouveaux tickets pour l’équipe informatique');
    expect(page.text).toContain('Notes internes sur les tickets qui me sont attribués');
  });

  test('when an employee unticks replies, then explicit booleans are stored and the box stays unticked', async () => {
    const employee = await createUser(ctx.db, { locale: 'en' });
    // A value from an earlier role survives: the form only speaks for what it shows.
    await ctx
      .db('users')
      .where({ id: employee.id })
      .update({ notification_prefs: { note: false } });
    const agent = await loggedIn(employee);

    const res = await postForm(
      agent,
      '/account/notifications',
      { notify_created: '1', notify_status: '1', notify_note: '1' },
      { from: '/account' },
    );

    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/account#notifications-title');
    expect(await storedPrefs(employee.id)).toEqual({
      created: true,
      reply: false,
      status: true,
      note: false,
    });
    const page = await agent.get('/account');
    expect(page.text).toContain('Your email preferences are saved.');
    expect(checkbox(page.text, 'reply')?.[1]).toBeUndefined();
    expect(checkbox(page.text, 'created')?.[1]).toBe('checked');
  });

  test('when the preferences are posted without a CSRF token, then 403 and nothing changes', async () => {
    const employee = await createUser(ctx.db);
    const agent = await loggedIn(employee);
    const res = await agent.post('/account/notifications').type('form').send({});
    expect(res.status).toBe(403);
    expect(await storedPrefs(employee.id)).toEqual({});
  });
});

describe('preferences decide who gets what', () => {
  test('when a requester turned replies off, then a staff reply queues nothing for them while other kinds still do', async () => {
    // Arrange: one requester without reply emails, one with the defaults.
    const quiet = await createUser(ctx.db, { name: 'Quiet Requester' });
    const usual = await createUser(ctx.db, { name: 'Usual Requester' });
    const quietAgent = await loggedIn(quiet);
    const usualAgent = await loggedIn(usual);
    const saved = await postForm(
      quietAgent,
      '/account/notifications',
      { notify_created: '1', notify_status: '1' },
      { from: '/account' },
    );
    expect(saved.status).toBe(302);
    const quietTicket = await fileTicket(quietAgent, 'Souris qui clignote');
    const usualTicket = await fileTicket(usualAgent, 'Souris qui saute');

    // Act: the same staff reply, then a status change, on both tickets.
    await staffReply(quietTicket, 'Avez-vous changé les piles ?');
    await staffReply(usualTicket, 'Avez-vous changé les piles ?');
    await resolve(quietTicket);
    await resolve(usualTicket);

    // Assert
    expect(await kindsFor(quietTicket, quiet.id)).toEqual([
      'ticket_acknowledged',
      'status_changed',
    ]);
    expect(await kindsFor(usualTicket, usual.id)).toEqual([
      'ticket_acknowledged',
      'reply_to_requester',
      'status_changed',
    ]);
    // The staff side is untouched by the requester's choice.
    expect(await kindsFor(quietTicket, technician.id)).toEqual(['ticket_created']);
  });

  test('when a technician turned new-ticket emails off, then a new ticket reaches the other technicians only', async () => {
    const other = await createUser(ctx.db, { role: 'technician' });
    const optedOut = await createUser(ctx.db, { role: 'technician' });
    const saved = await postForm(
      await loggedIn(optedOut),
      '/account/notifications',
      { notify_assigned: '1', notify_reply: '1', notify_status: '1', notify_note: '1' },
      { from: '/account' },
    );
    expect(saved.status).toBe(302);
    expect(await storedPrefs(optedOut.id)).toEqual({
      created: false,
      assigned: true,
      reply: true,
      status: true,
      note: true,
    });

    const ticket = await fileTicket(await loggedIn(await createUser(ctx.db)), 'Wi-Fi lent');

    expect(await kindsFor(ticket, optedOut.id)).toEqual([]);
    expect(await kindsFor(ticket, other.id)).toEqual(['ticket_created']);
  });
});
