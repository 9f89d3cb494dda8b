import crypto from 'node:crypto';
import { createTestContext, type TestContext } from '../support/app';
import { csrfFrom, loginAs, newAgent, postForm, type Agent } from '../support/agent';
import { createUser, type TestUser } from '../support/factories';
import { TestSmtpServer } from '../support/smtp';
import { startTestWorker, type TestWorker } from '../support/worker';

let ctx: TestContext;
let smtp: TestSmtpServer;
let worker: TestWorker;
let admin: TestUser;
let adminAgent: Agent;

beforeAll(async () => {
  ctx = await createTestContext();
  smtp = await new TestSmtpServer().start();
  worker = await startTestWorker(ctx, smtp.port);
  admin = await createUser(ctx.db, { role: 'admin', name: 'Ada Admin' });
  adminAgent = newAgent(ctx.app);
  await loginAs(adminAgent, admin);
});
afterAll(async () => {
  await worker.stop();
  await smtp.stop();
  await ctx.close();
});

const uniqueEmail = (who: string) => `${who}-${crypto.randomBytes(4).toString('hex')}@example.com`;

const LINK = /http:\/\/guichet\.test(\/password\/reset\/[A-Za-z0-9_-]+)/;

/** The path of the link in the `nth` email (1-based) received by `address`. */
async function linkFor(address: string, nth = 1): Promise<string> {
  await smtp.waitFor(() => smtp.to(address).length >= nth);
  return LINK.exec(smtp.to(address)[nth - 1].parsed.text!)![1];
}

/** Creates an account from the admin form, leaving the password empty. */
async function invite(fields: { name: string; email: string; locale?: string; role?: string }) {
  return postForm(
    adminAgent,
    '/admin/users',
    { role: 'employee', locale: '', password: '', ...fields },
    { from: '/admin/users/new' },
  );
}

async function userByEmail(email: string) {
  return ctx.db('users').where({ email }).first();
}

describe('invitations', () => {
  test('when an admin creates a user without a password, then the invitation, in their language, lets them choose one and log in', async () => {
    const email = uniqueEmail('newcomer');
    const form = await adminAgent.get('/admin/users/new');
    expect(form.text).toContain('Laissez vide pour envoyer une invitation par e-mail.');

    const res = await invite({ name: 'Nora Newcomer', email, locale: 'en' });

    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/admin/users');
    const list = await adminAgent.get('/admin/users');
    expect(list.text).toContain(
      `Le compte de Nora Newcomer est créé. Une invitation à choisir son mot de passe a été envoyée à ${email}.`,
    );
    const row = await userByEmail(email);
    expect(row.password_hash).toBeNull();
    const nobody = await postForm(newAgent(ctx.app), '/login', {
      email,
      password: 'any-password-at-all',
    });
    expect(nobody.status).toBe(401);

    const path = await linkFor(email);
    const mail = smtp.to(email)[0].parsed;
    expect(mail.subject).toBe('Your Guichet account');
    expect(mail.text).toContain('Hello Nora Newcomer');
    expect(mail.text).toContain('This link is valid for 7 days and works once.');
    const stored = await ctx.db('password_tokens').where({ user_id: row.id }).first();
    expect(stored.purpose).toBe('invite');
    const days = (new Date(stored.expires_at).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThanOrEqual(7);

    const nora = newAgent(ctx.app);
    const page = await nora.get(path);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Welcome to Guichet');
    expect(page.text).toContain(email);
    const done = await postForm(nora, path, {
      password: 'nora-chose-this',
      password_confirm: 'nora-chose-this',
    });
    expect(done.status).toBe(302);
    expect(done.headers.location).toBe('/tickets');
    const tickets = await nora.get('/tickets');
    expect(tickets.status).toBe(200);
    expect(tickets.text).toContain('Your password is saved. Welcome to Guichet!');
    expect(tickets.text).toContain('Nora Newcomer');

    await loginAs(newAgent(ctx.app), { email, password: 'nora-chose-this' });
    const reused = await newAgent(ctx.app).get(path);
    expect(reused.status).toBe(410);
    expect((await ctx.db('users').where({ id: row.id }).first()).last_login_at).not.toBeNull();
  });

  test('when no language is chosen, then the invitation is in the default language, French', async () => {
    const email = uniqueEmail('francoise');

    await invite({ name: 'Françoise Défaut', email });

    const path = await linkFor(email);
    const mail = smtp.to(email)[0].parsed;
    expect(mail.subject).toBe('Votre compte Guichet');
    expect(mail.text).toContain('Bonjour Françoise Défaut');
    expect(mail.text).toContain('Ce lien est valable 7 jours et ne sert qu’une fois.');
    expect(mail.html).toContain(`http://guichet.test${path}`);
    const page = await newAgent(ctx.app).get(path);
    expect(page.text).toContain('Bienvenue sur Guichet');
  });

  test('when an admin gives an initial password, then no invitation is sent', async () => {
    const email = uniqueEmail('direct');
    const other = uniqueEmail('marker');

    const res = await postForm(
      adminAgent,
      '/admin/users',
      { name: 'Direct', email, role: 'employee', password: 'initial-password' },
      { from: '/admin/users/new' },
    );
    await invite({ name: 'Marker', email: other });

    expect(res.status).toBe(302);
    await linkFor(other);
    expect(smtp.to(email)).toHaveLength(0);
    await loginAs(newAgent(ctx.app), { email, password: 'initial-password' });
  });

  test('when the email is already taken, then nothing is created and no invitation is queued', async () => {
    const existing = await createUser(ctx.db);
    const before = await ctx.db('notifications').count<{ n: string }[]>('* as n').first();

    const res = await invite({ name: 'Copy', email: existing.email });

    expect(res.status).toBe(422);
    expect(res.text).toContain('Un compte utilise déjà cette adresse e-mail.');
    expect(await ctx.db('notifications').count('* as n').first()).toEqual(before);
    expect(await ctx.db('password_tokens').where({ user_id: existing.id })).toHaveLength(0);
  });

  test('when an admin resends the invitation, then a new link arrives and the old one no longer works', async () => {
    const email = uniqueEmail('resend');
    await invite({ name: 'Rita Resend', email });
    const first = await linkFor(email);
    const { id } = await userByEmail(email);
    const edit = await adminAgent.get(`/admin/users/${id}`);
    expect(edit.text).toContain(`action="/admin/users/${id}/invite"`);
    expect(edit.text).toContain('Renvoyer l’invitation');

    const res = await postForm(
      adminAgent,
      `/admin/users/${id}/invite`,
      {},
      {
        from: `/admin/users/${id}`,
      },
    );

    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`/admin/users/${id}`);
    expect((await adminAgent.get(res.headers.location)).text).toContain(
      `Une nouvelle invitation a été envoyée à ${email}.`,
    );
    const second = await linkFor(email, 2);
    expect(second).not.toBe(first);
    expect((await newAgent(ctx.app).get(first)).status).toBe(410);
    expect((await newAgent(ctx.app).get(second)).status).toBe(200);
  });

  test('when the user already has a password, then there is no button and a resend is refused', async () => {
    const user = await createUser(ctx.db);
    const edit = await adminAgent.get(`/admin/users/${user.id}`);
    expect(edit.text).not.toContain('/invite"');

    const res = await postForm(
      adminAgent,
      `/admin/users/${user.id}/invite`,
      {},
      {
        from: `/admin/users/${user.id}`,
      },
    );

    expect(res.status).toBe(302);
    expect((await adminAgent.get(res.headers.location)).text).toContain(
      'Ce compte a déjà un mot de passe ou est désactivé',
    );
    expect(await ctx.db('notifications').where({ to_email: user.email })).toHaveLength(0);
    const token = await csrfFrom(adminAgent, '/admin/users');
    const unknown = await adminAgent
      .post('/admin/users/999999/invite')
      .type('form')
      .send({ _csrf: token });
    expect(unknown.status).toBe(404);
  });

  test('when the admin fixes a mistyped address, then the link sent to it stops working', async () => {
    const typo = uniqueEmail('tpyo');
    await invite({ name: 'Typo Person', email: typo });
    const path = await linkFor(typo);
    const { id } = await userByEmail(typo);
    const fixed = uniqueEmail('typo');

    await postForm(
      adminAgent,
      `/admin/users/${id}`,
      { name: 'Typo Person', email: fixed, role: 'employee', active: '1' },
      { from: `/admin/users/${id}` },
    );

    expect((await newAgent(ctx.app).get(path)).status).toBe(410);
    await postForm(adminAgent, `/admin/users/${id}/invite`, {}, { from: `/admin/users/${id}` });
    expect((await newAgent(ctx.app).get(await linkFor(fixed))).status).toBe(200);
  });

  test('when the invitation expired, then the newcomer can still get a link from /password/forgot', async () => {
    const email = uniqueEmail('late');
    await invite({ name: 'Late Larry', email });
    const path = await linkFor(email);
    const { id } = await userByEmail(email);
    await ctx
      .db('password_tokens')
      .where({ user_id: id })
      .update({ expires_at: ctx.db.raw(`now() - interval '1 minute'`) });
    expect((await newAgent(ctx.app).get(path)).status).toBe(410);

    const larry = newAgent(ctx.app);
    await postForm(larry, '/password/forgot', { email });
    const resetPath = await linkFor(email, 2);
    expect(smtp.to(email)[1].parsed.subject).toBe('Réinitialisation de votre mot de passe Guichet');
    await larry.get(resetPath);
    const done = await postForm(larry, resetPath, {
      password: 'larry-finally-in',
      password_confirm: 'larry-finally-in',
    });

    expect(done.status).toBe(302);
    await loginAs(newAgent(ctx.app), { email, password: 'larry-finally-in' });
  });

  test('when a resend is posted without its CSRF token, then 403 and nothing is sent', async () => {
    const email = uniqueEmail('csrf');
    await invite({ name: 'Cees Csrf', email });
    await linkFor(email);
    const { id } = await userByEmail(email);

    const res = await adminAgent.post(`/admin/users/${id}/invite`).type('form').send({});

    expect(res.status).toBe(403);
    expect(await ctx.db('password_tokens').where({ user_id: id })).toHaveLength(1);
  });

  test('when someone who is not an admin posts a resend, then 403', async () => {
    const email = uniqueEmail('target');
    await invite({ name: 'Target', email });
    const { id } = await userByEmail(email);
    const tech = await createUser(ctx.db, { role: 'technician' });
    const agent = newAgent(ctx.app);
    await loginAs(agent, tech);

    const token = await csrfFrom(agent, '/account');
    const res = await agent.post(`/admin/users/${id}/invite`).type('form').send({ _csrf: token });

    expect(res.status).toBe(403);
    expect(await ctx.db('password_tokens').where({ user_id: id })).toHaveLength(1);
  });
});

describe('invitations with email turned off', () => {
  test('when EMAIL_ENABLED=false and no initial password is given, then the form asks for one and nothing is created', async () => {
    const off = await createTestContext({ env: { EMAIL_ENABLED: 'false' } });
    try {
      const admin = await createUser(off.db, { role: 'admin' });
      const agent = newAgent(off.app);
      await loginAs(agent, admin);
      const res = await postForm(
        agent,
        '/admin/users',
        { name: 'Sans Mot', email: 'sans.mot@example.com', role: 'employee', password: '' },
        { from: '/admin/users/new' },
      );
      expect(res.status).toBe(422);
      expect(res.text).toContain('EMAIL_ENABLED=false');
      expect(res.text).toContain('value="Sans Mot"');
      expect(
        await off.db('users').where({ email: 'sans.mot@example.com' }).first(),
      ).toBeUndefined();
      expect(await off.db('notifications').count('* as n').first()).toEqual({ n: 0 });
    } finally {
      await off.close();
    }
  });
});
