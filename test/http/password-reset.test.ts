import crypto from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createApp } from '../../src/app';
import { createTestContext, type TestContext } from '../support/app';
import { csrfFrom, loginAs, newAgent, postForm, sessionCookie, type Agent } from '../support/agent';
import { createUser, type TestUser } from '../support/factories';
import { TestSmtpServer } from '../support/smtp';
import { startTestWorker, type TestWorker } from '../support/worker';

let ctx: TestContext;
let smtp: TestSmtpServer;
let worker: TestWorker;

beforeAll(async () => {
  // Behind a proxy, each test can come from an address of its own: the per-address limit of
  // one test does not spill over into the next.
  ctx = await createTestContext({ env: { TRUST_PROXY: 'true' } });
  smtp = await new TestSmtpServer().start();
  worker = await startTestWorker(ctx, smtp.port);
});
afterAll(async () => {
  await worker.stop();
  await smtp.stop();
  await ctx.close();
});

let lastIp = 0;
const freshIp = () => `198.51.100.${++lastIp}`;

/** Posts /password/forgot as a browser at `ip` does, with the form's CSRF token. */
async function forgot(agent: Agent, email: string, ip: string, csrf?: string) {
  const token = csrf ?? (await csrfFrom(agent, '/password/forgot'));
  return agent
    .post('/password/forgot')
    .set('X-Forwarded-For', ip)
    .type('form')
    .send({ email, _csrf: token });
}

const LINK = /http:\/\/guichet\.test(\/password\/reset\/([A-Za-z0-9_-]+))/;

/** The path of the link in the `nth` email (1-based) received by `address`. */
async function linkFor(address: string, nth = 1): Promise<string> {
  await smtp.waitFor(() => smtp.to(address).length >= nth);
  return LINK.exec(smtp.to(address)[nth - 1].parsed.text!)![1];
}

async function requestLink(user: TestUser): Promise<string> {
  const before = smtp.to(user.email).length;
  const res = await forgot(newAgent(ctx.app), user.email, freshIp());
  expect(res.status).toBe(302);
  return linkFor(user.email, before + 1);
}

async function choosePassword(agent: Agent, path: string, password: string, confirm = password) {
  return postForm(agent, path, { password, password_confirm: confirm });
}

const withoutToken = (html: string) => html.replace(/name="_csrf" value="[^"]+"/g, '');
const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

describe('asking for a reset link', () => {
  test('when the address is unknown or known, then the answer is the same, and only the account gets an email', async () => {
    const user = await createUser(ctx.db, { name: 'Camille Martin' });
    const unknown = `nobody-${crypto.randomBytes(4).toString('hex')}@example.com`;
    const a = newAgent(ctx.app);
    const b = newAgent(ctx.app);

    const forUnknown = await forgot(a, unknown, freshIp());
    const forKnown = await forgot(b, user.email.toUpperCase(), freshIp());

    expect(forUnknown.status).toBe(302);
    expect(forKnown.status).toBe(forUnknown.status);
    expect(forKnown.headers.location).toBe(forUnknown.headers.location);
    const pageUnknown = await a.get(forUnknown.headers.location);
    const pageKnown = await b.get(forKnown.headers.location);
    expect(pageUnknown.text).toContain(
      'Si un compte existe pour cette adresse, un e-mail est en route.',
    );
    expect(withoutToken(pageKnown.text)).toBe(withoutToken(pageUnknown.text));

    await smtp.waitFor(() => smtp.to(user.email).length === 1);
    const mail = smtp.to(user.email)[0].parsed;
    expect(mail.subject).toBe('Réinitialisation de votre mot de passe Guichet');
    expect(mail.text).toContain('Bonjour Camille Martin');
    expect(mail.text).toContain('Ce lien est valable 1 heure et ne sert qu’une fois.');
    expect(mail.html).toContain('http://guichet.test/password/reset/');
    // The unknown address was asked first; its (empty) work is long done.
    expect(smtp.to(unknown)).toHaveLength(0);
    expect(await ctx.db('notifications').where({ to_email: unknown })).toHaveLength(0);
  });

  test('when a link is sent, then only its hash is stored, valid for one hour', async () => {
    const user = await createUser(ctx.db);
    const started = Date.now();

    const path = await requestLink(user);

    const token = path.split('/').pop()!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await ctx.db('password_tokens').where({ user_id: user.id });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ purpose: 'reset', token_hash: sha256(token), used_at: null });
    const ttl = new Date(rows[0].expires_at).getTime() - started;
    expect(ttl).toBeGreaterThan(59 * 60 * 1000);
    expect(ttl).toBeLessThanOrEqual(61 * 60 * 1000);
  });

  test('when a deactivated account asks, then nothing is sent', async () => {
    const user = await createUser(ctx.db, { active: false });
    const other = await createUser(ctx.db);

    await forgot(newAgent(ctx.app), user.email, freshIp());
    await requestLink(other);

    expect(smtp.to(user.email)).toHaveLength(0);
    expect(await ctx.db('password_tokens').where({ user_id: user.id })).toHaveLength(0);
  });

  test('when the address is not an email, then the form says so', async () => {
    const res = await forgot(newAgent(ctx.app), 'not-an-address', freshIp());
    expect(res.status).toBe(422);
    expect(res.text).toContain('Saisissez une adresse e-mail valide');
    expect(res.text).toContain('value="not-an-address"');
  });

  test('when the login page is shown, then it links to the reset form', async () => {
    const login = await newAgent(ctx.app).get('/login');
    expect(login.text).toContain('href="/password/forgot"');
    expect(login.text).toContain('Mot de passe oublié ?');
    const page = await newAgent(ctx.app).get('/password/forgot');
    expect(page.status).toBe(200);
    expect(page.text).toContain('action="/password/forgot"');
  });
});

describe('throttling /password/forgot', () => {
  test('when one account is asked for more than 5 times in an hour, then 429 with the wait, from any address', async () => {
    const target = `target-${crypto.randomBytes(4).toString('hex')}@example.com`;
    for (let i = 0; i < 5; i++) {
      expect((await forgot(newAgent(ctx.app), target, freshIp())).status).toBe(302);
    }

    const blocked = await forgot(newAgent(ctx.app), target.toUpperCase(), freshIp());

    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(3000);
    expect(blocked.text).toContain(
      'Trop de demandes de réinitialisation. Réessayez dans 60 minutes.',
    );
    // Another account is not affected.
    const other = await forgot(newAgent(ctx.app), `x-${target}`, freshIp());
    expect(other.status).toBe(302);
  });

  test('when one address asks for more than 20 accounts, then that address gets 429, not others', async () => {
    const ip = freshIp();
    const agent = newAgent(ctx.app);
    const token = await csrfFrom(agent, '/password/forgot');
    const tag = crypto.randomBytes(4).toString('hex');
    for (let i = 0; i < 20; i++) {
      expect((await forgot(agent, `guess${i}-${tag}@example.com`, ip, token)).status).toBe(302);
    }

    const blocked = await forgot(agent, `guess99-${tag}@example.com`, ip, token);
    const elsewhere = await forgot(newAgent(ctx.app), `guess99-${tag}@example.com`, freshIp());

    expect(blocked.status).toBe(429);
    expect(elsewhere.status).toBe(302);
  });
});

describe('choosing a new password through the link', () => {
  test('when the link is followed, then the password changes, the user is logged in, and the link is dead', async () => {
    const user = await createUser(ctx.db, { name: 'Rémi Reset' });
    const path = await requestLink(user);
    const agent = newAgent(ctx.app);

    const page = await agent.get(path);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Choisir un nouveau mot de passe');
    expect(page.text).toContain(user.email);
    expect(page.headers['cache-control']).toBe('no-store');
    // same-origin, not no-referrer: the form's POST must keep a real Origin header.
    expect(page.headers['referrer-policy']).toBe('same-origin');

    const mismatch = await choosePassword(agent, path, 'a-brand-new-password', 'something-else');
    expect(mismatch.status).toBe(422);
    expect(mismatch.text).toContain('Les deux mots de passe ne correspondent pas.');
    const short = await choosePassword(agent, path, 'short');
    expect(short.status).toBe(422);
    expect(short.text).toContain('au moins 10 caractères');

    const before = sessionCookie(page);
    const done = await choosePassword(agent, path, 'a-brand-new-password');

    expect(done.status).toBe(302);
    expect(done.headers.location).toBe('/tickets');
    expect(sessionCookie(done)).toBeDefined();
    expect(sessionCookie(done)).not.toBe(before);
    const tickets = await agent.get('/tickets');
    expect(tickets.status).toBe(200);
    expect(tickets.text).toContain('Votre mot de passe est changé.');
    expect(tickets.text).toContain('Rémi Reset');
    await loginAs(newAgent(ctx.app), { email: user.email, password: 'a-brand-new-password' });
    const old = await postForm(newAgent(ctx.app), '/login', {
      email: user.email,
      password: user.password,
    });
    expect(old.status).toBe(401);

    const again = await newAgent(ctx.app).get(path);
    expect(again.status).toBe(410);
    expect(again.text).toContain('Ce lien a expiré ou a déjà été utilisé.');
    expect(again.text).toContain('href="/password/forgot"');
    const replay = newAgent(ctx.app);
    const token = await csrfFrom(replay, '/password/forgot');
    const reused = await replay
      .post(path)
      .type('form')
      .send({ _csrf: token, password: 'attacker-password', password_confirm: 'attacker-password' });
    expect(reused.status).toBe(410);
    await loginAs(newAgent(ctx.app), { email: user.email, password: 'a-brand-new-password' });
  });

  test('when the link is more than an hour old, then it is refused', async () => {
    const user = await createUser(ctx.db);
    const path = await requestLink(user);
    await ctx
      .db('password_tokens')
      .where({ user_id: user.id })
      .update({ expires_at: ctx.db.raw(`now() - interval '1 second'`) });
    const agent = newAgent(ctx.app);

    const page = await agent.get(path);
    const token = await csrfFrom(agent, '/password/forgot');
    const post = await agent
      .post(path)
      .type('form')
      .send({ _csrf: token, password: 'too-late-password', password_confirm: 'too-late-password' });

    expect(page.status).toBe(410);
    expect(page.text).toContain('Ce lien a expiré ou a déjà été utilisé.');
    expect(post.status).toBe(410);
    await loginAs(newAgent(ctx.app), user);
  });

  test('when a second link is asked for, then the first one stops working', async () => {
    const user = await createUser(ctx.db);
    const first = await requestLink(user);
    const second = await requestLink(user);

    expect(second).not.toBe(first);
    expect((await newAgent(ctx.app).get(first)).status).toBe(410);
    expect((await newAgent(ctx.app).get(second)).status).toBe(200);
  });

  test('when the account is deactivated after the link was sent, then the link is refused', async () => {
    const user = await createUser(ctx.db);
    const path = await requestLink(user);
    await ctx.db('users').where({ id: user.id }).update({ active: false });

    expect((await newAgent(ctx.app).get(path)).status).toBe(410);
  });

  test('when the token is junk, then the same refused page', async () => {
    for (const junk of ['abc', 'x'.repeat(43), `${'A'.repeat(42)}%00`, 'a'.repeat(500)]) {
      const res = await newAgent(ctx.app).get(`/password/reset/${junk}`);
      expect(res.status).toBe(410);
    }
  });

  test('when the password is reset, then the sessions of that user in other browsers end', async () => {
    const user = await createUser(ctx.db);
    const laptop = newAgent(ctx.app);
    await loginAs(laptop, user);
    expect((await laptop.get('/account')).status).toBe(200);
    const bystander = await createUser(ctx.db);
    const theirs = newAgent(ctx.app);
    await loginAs(theirs, bystander);

    const path = await requestLink(user);
    const phone = newAgent(ctx.app);
    await phone.get(path);
    const done = await choosePassword(phone, path, 'phone-chosen-password');

    expect(done.status).toBe(302);
    const after = await laptop.get('/account');
    expect(after.status).toBe(302);
    expect(after.headers.location).toBe('/login?returnTo=%2Faccount');
    expect((await phone.get('/account')).status).toBe(200);
    expect((await theirs.get('/account')).status).toBe(200);
    const sessions = await ctx
      .db('session')
      .whereRaw(`(sess -> 'passport' ->> 'user') = ?`, [String(user.id)]);
    expect(sessions).toHaveLength(1);
  });

  test('when the user chose English, then the email and the page are in English', async () => {
    const user = await createUser(ctx.db, { locale: 'en' });
    const path = await requestLink(user);

    const mail = smtp.to(user.email)[0].parsed;
    const page = await newAgent(ctx.app).get(path);

    expect(mail.subject).toBe('Reset your Guichet password');
    expect(mail.text).toContain('This link is valid for 1 hour and works once.');
    expect(page.text).toContain('Choose a new password');
  });
});

describe('protections', () => {
  test('when a form is posted without its CSRF token, then 403 and nothing happens', async () => {
    const user = await createUser(ctx.db);
    const path = await requestLink(user);
    const agent = newAgent(ctx.app);
    await agent.get(path);

    const forgotRes = await agent
      .post('/password/forgot')
      .set('X-Forwarded-For', freshIp())
      .type('form')
      .send({ email: user.email });
    const resetRes = await agent
      .post(path)
      .type('form')
      .send({ password: 'csrf-less-password', password_confirm: 'csrf-less-password' });

    expect(forgotRes.status).toBe(403);
    expect(resetRes.status).toBe(403);
    expect((await newAgent(ctx.app).get(path)).status).toBe(200);
    await loginAs(newAgent(ctx.app), user);
    expect(await ctx.db('password_tokens').where({ user_id: user.id })).toHaveLength(1);
  });

  test('when a reset page is requested, then the request log shows no token', async () => {
    const user = await createUser(ctx.db);
    const path = await requestLink(user);
    const token = path.split('/').pop()!;
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const logged = createApp({
      config: ctx.config,
      db: ctx.db,
      sessionPool: ctx.sessionPool,
      logger: pino({ level: 'debug' }, sink),
    });

    const page = await newAgent(logged).get(path);
    await newAgent(logged).get(`${path}?x=1`);

    expect(page.status).toBe(200);
    const log = lines.join('');
    expect(log).toContain('/password/reset/[redacted]');
    expect(log).not.toContain(token);
  });
});
