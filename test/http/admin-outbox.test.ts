import crypto from 'node:crypto';
import net from 'node:net';
import type { Mailer } from '../../src/notifications/mailer';
import { createTestContext, type TestContext } from '../support/app';
import { csrfFrom, loginAs, newAgent, postForm, postMultipart, type Agent } from '../support/agent';
import { createUser, type TestUser } from '../support/factories';
import { TestSmtpServer } from '../support/smtp';
import { startTestWorker, testSmtpMailer, type TestWorker } from '../support/worker';

let ctx: TestContext;
let smtp: TestSmtpServer;
let worker: TestWorker;
let admin: TestUser;
let employee: TestUser;
let adm: Agent;
let emp: Agent;
let tech: Agent;
/** The mailer the app's test button uses; each test may point it elsewhere. */
let appMailer: Mailer;
const mailers: Mailer[] = [];

// The app is built before the context exists, so it gets a mailer that forwards to this one.
const forwardingMailer: Mailer = {
  send: (m) => appMailer.send(m),
  verify: () => appMailer.verify(),
  close: () => undefined,
  describe: () => appMailer.describe(),
};

function useMailerOn(port: number): void {
  appMailer = testSmtpMailer(ctx, port);
  mailers.push(appMailer);
}

/** A port on loopback that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls the database until `check` holds (the worker delivers in the background). */
async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the outbox');
    await new Promise((r) => setTimeout(r, 25));
  }
}

let seq = 0;
/** An outbox row as outbox.ts writes them, without queueing a job (the worker ignores it). */
async function insertEmail(over: Record<string, unknown> = {}): Promise<number> {
  seq += 1;
  const n = crypto.randomBytes(4).toString('hex');
  const [row] = await ctx
    .db('notifications')
    .insert({
      to_email: `someone-${n}@example.com`,
      to_name: `Someone ${n}`,
      locale: 'fr',
      kind: 'reply_to_requester',
      subject: `Subject ${n}`,
      text_body: `Text ${n}`,
      html_body: `<p>HTML ${n}</p>`,
      message_id: `<seed-${n}-${seq}@guichet.test>`,
      delivery_key: `seed:${n}`,
      status: 'sent',
      attempts: 1,
      ...over,
    })
    .returning('id');
  return Number(row.id);
}

beforeAll(async () => {
  smtp = await new TestSmtpServer().start();
  ctx = await createTestContext({ deps: { mailer: forwardingMailer } });
  useMailerOn(smtp.port);
  worker = await startTestWorker(ctx, smtp.port);
  admin = await createUser(ctx.db, { role: 'admin', name: 'Alice Admin' });
  employee = await createUser(ctx.db, { name: 'Camille Martin' });
  const technician = await createUser(ctx.db, { role: 'technician' });
  adm = newAgent(ctx.app);
  emp = newAgent(ctx.app);
  tech = newAgent(ctx.app);
  await loginAs(adm, admin);
  await loginAs(emp, employee);
  await loginAs(tech, technician);
});

afterAll(async () => {
  await worker.stop();
  for (const m of mailers) m.close();
  await smtp.stop();
  await ctx.close();
});

describe('/admin/outbox: who may see it', () => {
  test('when an employee or a technician opens the outbox or an email, then it is refused', async () => {
    const id = await insertEmail();
    for (const agent of [emp, tech]) {
      expect((await agent.get('/admin/outbox')).status).toBe(403);
      expect((await agent.get(`/admin/outbox/${id}`)).status).toBe(403);
    }
  });

  test('when a technician posts "send again", then it is refused and nothing is queued', async () => {
    const id = await insertEmail({ status: 'failed', attempts: 3, last_error: '550 no' });
    const res = await tech
      .post(`/admin/outbox/${id}/retry`)
      .type('form')
      .send({ _csrf: await csrfFrom(tech, '/account') });
    expect(res.status).toBe(403);
    expect((await ctx.db('notifications').where({ id }).first()).status).toBe('failed');
  });

  test('when a visitor is logged out, then the outbox sends them to the login page', async () => {
    const res = await newAgent(ctx.app).get('/admin/outbox');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/login?returnTo=%2Fadmin%2Foutbox');
  });

  test('when an admin opens the outbox, then the nav links to it and says how mail leaves', async () => {
    const res = await adm.get('/admin/outbox');
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/<a href="\/admin\/outbox" aria-current=page>Envois<\/a>/);
    expect(res.text).toContain(`Les e-mails partent par le serveur SMTP 127.0.0.1:${smtp.port}.`);
    // The test form offers the admin's own address.
    expect(res.text).toContain(`value="${admin.email}"`);
  });
});

describe('/admin/outbox: list, filters and detail', () => {
  test('when emails exist, then the newest comes first with its recipient, kind, status and error', async () => {
    const token = crypto.randomBytes(4).toString('hex');
    const older = await insertEmail({ subject: `Older ${token}` });
    const longError = `451 4.7.1 Greylisted ${'x'.repeat(150)} END-OF-ERROR`;
    const newer = await insertEmail({
      subject: `Newer ${token}`,
      to_name: 'Bob Durand',
      to_email: `bob-${token}@example.com`,
      kind: 'ticket_assigned',
      status: 'failed',
      attempts: 10,
      last_error: longError,
    });

    const res = await adm.get(`/admin/outbox?q=${token}`);

    expect(res.status).toBe(200);
    expect(res.text.indexOf(`/admin/outbox/${newer}"`)).toBeLessThan(
      res.text.indexOf(`/admin/outbox/${older}"`),
    );
    expect(res.text).toContain('Bob Durand');
    // A break opportunity before the @ keeps long addresses from widening the table.
    expect(res.text).toContain(`bob-${token}<wbr>@example.com`);
    expect(res.text).toContain('Attribution');
    expect(res.text).toContain('badge--outbox-failed');
    expect(res.text).toContain('>Échec<');
    // Truncated in the cell, whole in the tooltip.
    expect(res.text).toContain(`title="${longError}"`);
    expect(res.text.split('END-OF-ERROR').length - 1).toBe(1);
    // Send again only for failed and sent rows.
    expect(res.text).toContain(`action="/admin/outbox/${newer}/retry"`);
    expect(res.text).toContain(`action="/admin/outbox/${older}/retry"`);
  });

  test('when filtering by status, address, subject or ticket, then only the matching emails show', async () => {
    const token = crypto.randomBytes(4).toString('hex');
    const created = await postMultipart(
      emp,
      '/tickets',
      { title: `Écran noir ${token}`, description: 'Plus rien ne s’affiche.' },
      [],
      { from: '/tickets/new' },
    );
    expect(created.status).toBe(302);
    const ticketId = Number(/\/tickets\/(\d+)/.exec(created.headers.location)![1]);
    const retrying = await insertEmail({
      subject: `Retry ${token}`,
      status: 'retry',
      last_error: '451 later',
    });
    const byAddress = await insertEmail({ to_email: `match-${token}@example.com` });

    const ticketPage = await adm.get(`/admin/outbox?ticket=%23${ticketId}`);
    expect(ticketPage.text).toContain(`href="/tickets/${ticketId}"`);
    expect(ticketPage.text).toContain(`[#${ticketId}] Écran noir ${token}`);
    expect(ticketPage.text).toContain('Accusé de réception');
    expect(ticketPage.text).not.toContain(`/admin/outbox/${retrying}"`);

    const retryTab = await adm.get(`/admin/outbox?status=retry&q=${token}`);
    expect(retryTab.text).toContain(`/admin/outbox/${retrying}"`);
    expect(retryTab.text).not.toContain(`/admin/outbox/${byAddress}"`);
    expect(retryTab.text).toContain('prochain essai');
    // Tabs count under the other filters and keep them.
    expect(retryTab.text).toMatch(
      new RegExp(
        `href="/admin/outbox\\?status=retry&amp;q=${token}" aria-current=page>Nouvel essai prévu <span class="count">1</span>`,
      ),
    );
    expect(retryTab.text).toMatch(/Envoyé <span class="count">1<\/span>/);

    const address = await adm.get(`/admin/outbox?q=MATCH-${token}%40example`);
    expect(address.text).toContain(`/admin/outbox/${byAddress}"`);
    expect(address.text).not.toContain(`/admin/outbox/${retrying}"`);
  });

  test('when the search holds % or _, then they match themselves, not anything', async () => {
    const token = crypto.randomBytes(4).toString('hex');
    const literal = await insertEmail({ subject: `Disk 100% full ${token}` });
    const other = await insertEmail({ subject: `Disk 1000 full ${token}` });

    const percent = await adm.get(`/admin/outbox?q=${encodeURIComponent(`100% full ${token}`)}`);
    expect(percent.text).toContain(`/admin/outbox/${literal}"`);
    expect(percent.text).not.toContain(`/admin/outbox/${other}"`);

    const underscore = await adm.get(
      `/admin/outbox?q=${encodeURIComponent(`Disk 10_0 full ${token}`)}`,
    );
    expect(underscore.text).not.toContain(`/admin/outbox/${other}"`);
    expect(underscore.text).toContain('Aucun e-mail ne correspond à ces critères.');
  });

  test('when there are more than 50 emails, then a next page link continues where the first stopped', async () => {
    const token = crypto.randomBytes(4).toString('hex');
    const ids: number[] = [];
    for (let i = 0; i < 53; i++) ids.push(await insertEmail({ subject: `Bulk ${token} ${i}` }));

    const first = await adm.get(`/admin/outbox?q=${token}`);
    const shown = (html: string) => ids.filter((id) => html.includes(`href="/admin/outbox/${id}"`));
    expect(shown(first.text)).toEqual(ids.slice(3));
    const next = /href="([^"]+)" rel="next"/.exec(first.text);
    expect(next).not.toBeNull();

    const second = await adm.get(next![1].replace(/&amp;/g, '&'));
    expect(shown(second.text)).toEqual(ids.slice(0, 3));
    expect(second.text).not.toContain('rel="next"');
    expect(second.text).toContain('← Première page');
  });

  test('when an email is opened, then its headers, history and escaped text show, never its HTML', async () => {
    const id = await insertEmail({
      subject: '[#7] <script>alert(1)</script>',
      to_name: 'Zoé',
      to_email: 'zoe@example.com',
      message_id: '<ticket-7.3.abc@guichet.test>',
      in_reply_to: '<ticket-7.3@guichet.test>',
      references: '<ticket-7.3@guichet.test>',
      text_body: 'Bonjour,\n<b>pas du HTML</b>\nhttp://guichet.test/tickets/7',
      html_body: '<p>HTML-ONLY-MARKER</p>',
      status: 'sent',
      smtp_response: '250 2.0.0 Ok: queued as ABC123',
      sent_at: new Date(),
    });

    const res = await adm.get(`/admin/outbox/${id}`);

    expect(res.status).toBe(200);
    expect(res.text).toContain('Zoé &lt;zoe@example.com&gt;');
    expect(res.text).toContain('&lt;ticket-7.3.abc@guichet.test&gt;');
    expect(res.text).toContain('In-Reply-To');
    expect(res.text).toContain('&lt;ticket-7.3@guichet.test&gt;');
    expect(res.text).toContain('250 2.0.0 Ok: queued as ABC123');
    expect(res.text).toContain('&lt;b&gt;pas du HTML&lt;/b&gt;');
    expect(res.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(res.text).not.toContain('<script>alert(1)');
    expect(res.text).not.toContain('HTML-ONLY-MARKER');
    expect(res.text).toMatch(/<pre class="mail-text">Bonjour,/);
  });

  test('when an email does not exist or the id is not a number, then 404', async () => {
    expect((await adm.get('/admin/outbox/999999999')).status).toBe(404);
    expect((await adm.get('/admin/outbox/abc')).status).toBe(404);
  });
});

describe('/admin/outbox: send again', () => {
  test('when a ticket email failed for good and the admin sends it again, then it is delivered once', async () => {
    // Arrange: the server refuses everything for good while an employee files a ticket.
    smtp.refuseWith(550);
    const created = await postMultipart(
      emp,
      '/tickets',
      { title: 'Clavier cassé', description: 'La touche E ne répond plus.' },
      [],
      { from: '/tickets/new' },
    );
    expect(created.status).toBe(302);
    const ticketId = Number(/\/tickets\/(\d+)/.exec(created.headers.location)![1]);
    const ack = () =>
      ctx.db('notifications').where({ ticket_id: ticketId, kind: 'ticket_acknowledged' }).first();
    await waitUntil(async () => (await ack())?.status === 'failed');
    expect((await ack()).last_error).toContain('550');
    const failed = await adm.get(`/admin/outbox?ticket=${ticketId}&status=failed`);
    expect(failed.text).toContain('Mailbox unavailable');
    smtp.accept();
    smtp.clear();
    const { id } = await ack();

    // Act
    const res = await postForm(
      adm,
      `/admin/outbox/${id}/retry`,
      { returnTo: `/admin/outbox?ticket=${ticketId}` },
      { from: `/admin/outbox?ticket=${ticketId}` },
    );

    // Assert
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`/admin/outbox?ticket=${ticketId}`);
    const page = await adm.get(res.headers.location);
    expect(page.text).toContain(`L’e-mail ${id} à ${employee.email} est remis dans la file`);
    await smtp.waitFor(() => smtp.to(employee.email).length === 1);
    await waitUntil(async () => (await ack())?.status === 'sent');
    const row = await ack();
    expect(row.smtp_response).toMatch(/^250/);
    expect(row.last_error).toBeNull();
    expect(smtp.to(employee.email)[0].parsed.subject).toBe(`[#${ticketId}] Clavier cassé`);
    const detail = await adm.get(`/admin/outbox/${id}`);
    expect(detail.text).toContain('badge--outbox-sent');
  });

  test('when "send again" is posted for an email still queued, then nothing changes and the page says so', async () => {
    const id = await insertEmail({ status: 'pending', attempts: 0 });
    const res = await postForm(
      adm,
      `/admin/outbox/${id}/retry`,
      { returnTo: `/admin/outbox/${id}` },
      { from: `/admin/outbox/${id}` },
    );
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`/admin/outbox/${id}`);
    expect((await adm.get(`/admin/outbox/${id}`)).text).toContain('attend déjà d’être envoyé');
    expect((await ctx.db('notifications').where({ id }).first()).status).toBe('pending');
  });

  test('when returnTo points elsewhere, then the redirect stays on the outbox', async () => {
    const id = await insertEmail({ status: 'failed', attempts: 1 });
    const res = await postForm(
      adm,
      `/admin/outbox/${id}/retry`,
      { returnTo: '//evil.example/x' },
      { from: '/admin/outbox' },
    );
    expect(res.headers.location).toBe('/admin/outbox');
  });

  test('when "send again" is posted without a CSRF token, then 403 and the row stays failed', async () => {
    const id = await insertEmail({ status: 'failed', attempts: 2 });
    const res = await adm.post(`/admin/outbox/${id}/retry`).type('form').send({});
    expect(res.status).toBe(403);
    expect((await ctx.db('notifications').where({ id }).first()).status).toBe('failed');
  });
});

describe('/admin/outbox: test email button', () => {
  test('when the SMTP server accepts, then the page shows its 250 answer and the email arrives', async () => {
    useMailerOn(smtp.port);
    smtp.clear();
    const to = `check-${crypto.randomBytes(3).toString('hex')}@example.com`;

    const res = await postForm(adm, '/admin/outbox/test', { to }, { from: '/admin/outbox' });

    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/admin/outbox#test-email');
    const page = await adm.get('/admin/outbox');
    expect(page.text).toMatch(
      new RegExp(`E-mail de test à ${to} accepté. Le serveur a répondu : 250 `),
    );
    expect(smtp.to(to)).toHaveLength(1);
    // In the admin's language (French by default).
    expect(smtp.to(to)[0].parsed.subject).toBe('Guichet : e-mail de test');
  });

  test('when nothing listens on the SMTP port, then the page says connection refused and what to check', async () => {
    const port = await closedPort();
    useMailerOn(port);
    try {
      const res = await postForm(
        adm,
        '/admin/outbox/test',
        { to: admin.email },
        { from: '/admin/outbox' },
      );
      expect(res.status).toBe(302);
      const page = await adm.get('/admin/outbox');
      expect(page.text).toContain(`L’e-mail de test à ${admin.email} n’est pas parti : `);
      expect(page.text).toContain('ECONNREFUSED');
      expect(page.text).toContain(
        `Rien ne répond à 127.0.0.1:${port} : vérifiez SMTP_SERVER et SMTP_PORT`,
      );
      expect(page.text).toContain(`SMTP 127.0.0.1:${port}`);
    } finally {
      useMailerOn(smtp.port);
    }
  });

  test('when the address is not an email, then the form says so and nothing is sent', async () => {
    smtp.clear();
    const res = await postForm(
      adm,
      '/admin/outbox/test',
      { to: 'not-an-address' },
      { from: '/admin/outbox' },
    );
    expect(res.status).toBe(422);
    expect(res.text).toContain('value="not-an-address"');
    expect(res.text).toContain('field--error');
    expect(smtp.received).toHaveLength(0);
  });

  test('when the test is posted without a CSRF token, then 403 and nothing is sent', async () => {
    smtp.clear();
    const res = await adm.post('/admin/outbox/test').type('form').send({ to: admin.email });
    expect(res.status).toBe(403);
    expect(smtp.received).toHaveLength(0);
  });
});
