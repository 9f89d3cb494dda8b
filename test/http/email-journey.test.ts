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
import { TestSmtpServer } from '../support/smtp';
import { startTestWorker, type TestWorker } from '../support/worker';

let ctx: TestContext;
let smtp: TestSmtpServer;
let worker: TestWorker;
let employee: TestUser;
let tech: TestUser;
let otherTech: TestUser;
let emp: Agent;

beforeAll(async () => {
  ctx = await createTestContext();
  smtp = await new TestSmtpServer().start();
  worker = await startTestWorker(ctx, smtp.port);
  employee = await createUser(ctx.db, { name: 'Camille Martin', locale: 'fr' });
  tech = await createUser(ctx.db, { role: 'technician', name: 'Théo Tech', locale: 'en' });
  otherTech = await createUser(ctx.db, { role: 'technician', name: 'Ines Tech', locale: 'fr' });
  emp = newAgent(ctx.app);
  await loginAs(emp, employee);
});
afterAll(async () => {
  await worker.stop();
  await smtp.stop();
  await ctx.close();
});

const linkIn = (text: string) => /http:\/\/guichet\.test(\/tickets\/\d+)/.exec(text)![1];

describe('the journey of DESIGN.md §1, with real emails', () => {
  test('when a ticket goes from creation to closure, then each step emails the right people only, with working links', async () => {
    // 1. The employee files a ticket: acknowledgement to them, news to both technicians.
    const created = await postMultipart(
      emp,
      '/tickets',
      {
        title: 'Écran qui clignote',
        description: 'Mon écran clignote depuis ce matin.',
      },
      [{ name: 'photo.txt', content: 'x' }],
      { from: '/tickets/new' },
    );
    const id = Number(/\/tickets\/(\d+)/.exec(created.headers.location)![1]);
    await smtp.waitFor(() => smtp.received.length === 3);
    const ack = smtp.to(employee.email);
    expect(ack).toHaveLength(1);
    expect(ack[0].parsed.subject).toBe(`[#${id}] Écran qui clignote`);
    expect(ack[0].parsed.text).toContain(`enregistrée sous le numéro #${id}`);
    const toTech = smtp.to(tech.email)[0];
    expect(toTech.parsed.text).toContain('opened a new ticket'); // Théo reads English
    expect(toTech.parsed.text).toContain('photo.txt');
    expect(toTech.parsed.html).toContain(`http://guichet.test/tickets/${id}`);
    expect(smtp.to(otherTech.email)).toHaveLength(1);

    // 2. Théo follows the link while logged out: login, then he lands on the ticket.
    const t = newAgent(ctx.app);
    const path = linkIn(toTech.parsed.text!);
    const bounce = await t.get(path);
    expect(bounce.status).toBe(302);
    expect(bounce.headers.location).toBe(`/login?returnTo=${encodeURIComponent(path)}`);
    const login = await loginAs(t, tech, path);
    expect(login.headers.location).toBe(path);
    expect((await t.get(path)).status).toBe(200);

    // 3. He takes it (no email: his own action), writes a note (nobody: he is the assignee),
    //    then replies and sets it waiting: only the requester is emailed, threaded.
    smtp.clear();
    await postForm(t, `/tickets/${id}/take`, { version: await versionOf(t, id) }, { from: path });
    await postMultipart(
      t,
      `/tickets/${id}/replies`,
      { version: await versionOf(t, id), body: 'Note : câble HDMI à changer', internal: '1' },
      [],
      { from: path },
    );
    await postMultipart(
      t,
      `/tickets/${id}/replies`,
      {
        version: await versionOf(t, id),
        body: 'Pouvez-vous essayer un autre câble ?',
        status: 'waiting',
      },
      [],
      { from: path },
    );
    await smtp.waitFor(() => smtp.received.length >= 1);
    await new Promise((r) => setTimeout(r, 300)); // nothing else may arrive
    expect(smtp.received.map((m) => m.to[0])).toEqual([employee.email]);
    const reply = smtp.received[0].parsed;
    expect(reply.text).toContain('> Pouvez-vous essayer un autre câble ?');
    expect(reply.text).not.toContain('HDMI');
    expect(reply.text).toContain('En attente');
    expect(reply.inReplyTo).toBe(ack[0].parsed.messageId);
    expect(reply.references).toContain(ack[0].parsed.messageId);
    expect(reply.messageId).not.toBe(ack[0].parsed.messageId);

    // 4. The employee follows the link, reads the reply, answers: the assignee is emailed.
    smtp.clear();
    const page = await emp.get(linkIn(reply.text!));
    expect(page.text).toContain('Pouvez-vous essayer un autre câble ?');
    expect(page.text).not.toContain('HDMI');
    await postMultipart(
      emp,
      `/tickets/${id}/replies`,
      { version: await versionOf(emp, id), body: 'Avec un autre câble, ça marche !' },
      [],
      { from: `/tickets/${id}` },
    );
    await smtp.waitFor(() => smtp.received.length >= 1);
    expect(smtp.received.map((m) => m.to[0])).toEqual([tech.email]);
    expect(smtp.received[0].parsed.text).toContain('Camille Martin answered.');

    // 5. Resolved → the requester hears it; she confirms → nobody (her own action).
    smtp.clear();
    await postForm(
      t,
      `/tickets/${id}/status`,
      { version: await versionOf(t, id), status: 'resolved' },
      { from: path },
    );
    await smtp.waitFor(() => smtp.received.length >= 1);
    expect(smtp.received[0].to).toEqual([employee.email]);
    expect(smtp.received[0].parsed.text).toContain('« Résolu »');
    smtp.clear();
    await postForm(
      emp,
      `/tickets/${id}/status`,
      { version: await versionOf(emp, id), status: 'closed' },
      { from: `/tickets/${id}` },
    );
    expect((await ctx.db('tickets').where({ id }).first()).status).toBe('closed');
    await new Promise((r) => setTimeout(r, 300));
    expect(smtp.received).toHaveLength(0);

    // Every email of the ticket was delivered exactly once.
    const rows = await ctx.db('notifications').where({ ticket_id: id });
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
  });

  test('when someone who may not see the ticket follows its link, then they get the 404 page, not its title', async () => {
    const created = await postMultipart(
      emp,
      '/tickets',
      { title: 'Salaire confidentiel', description: 'x' },
      [],
      { from: '/tickets/new' },
    );
    const id = Number(/\/tickets\/(\d+)/.exec(created.headers.location)![1]);
    const stranger = await createUser(ctx.db);
    const s = newAgent(ctx.app);
    await loginAs(s, stranger, `/tickets/${id}`);
    const res = await s.get(`/tickets/${id}`);
    expect(res.status).toBe(404);
    expect(res.text).not.toContain('Salaire confidentiel');
  });
});
