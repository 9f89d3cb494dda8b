import { createTestContext, type TestContext } from '../support/app';
import { loginAs, newAgent, postForm } from '../support/agent';
import { createUser } from '../support/factories';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(() => ctx.close());

describe('account', () => {
  test('when a user changes name and language, then the pages follow the new language', async () => {
    const user = await createUser(ctx.db);
    const agent = newAgent(ctx.app);
    await loginAs(agent, user);
    const res = await postForm(agent, '/account', { name: 'Nouveau Nom', locale: 'en' });
    expect(res.status).toBe(302);
    const page = await agent.get('/account');
    expect(page.text).toContain('<html lang="en">');
    expect(page.text).toContain('Your profile is saved.');
    expect(page.text).toContain('value="Nouveau Nom"');
  });

  test('when the current password is wrong, then the password stays and the form says why', async () => {
    const user = await createUser(ctx.db);
    const agent = newAgent(ctx.app);
    await loginAs(agent, user);
    const res = await postForm(
      agent,
      '/account/password',
      {
        current_password: 'not-my-password',
        new_password: 'another-password',
        new_password_confirm: 'another-password',
      },
      { from: '/account' },
    );
    expect(res.status).toBe(422);
    expect(res.text).toContain('Le mot de passe actuel est incorrect.');
    await loginAs(newAgent(ctx.app), user);
  });

  test('when the password changes, then other sessions end and this one stays', async () => {
    const user = await createUser(ctx.db);
    const here = newAgent(ctx.app);
    const elsewhere = newAgent(ctx.app);
    await loginAs(here, user);
    await loginAs(elsewhere, user);
    const res = await postForm(
      here,
      '/account/password',
      {
        current_password: user.password,
        new_password: 'another-password',
        new_password_confirm: 'another-password',
      },
      { from: '/account' },
    );
    expect(res.status).toBe(302);
    expect((await here.get('/account')).status).toBe(200);
    expect((await elsewhere.get('/account')).status).toBe(302);
    await loginAs(newAgent(ctx.app), { email: user.email, password: 'another-password' });
  });

  test('when the new password is too short or mismatched, then 422 with both messages', async () => {
    const user = await createUser(ctx.db);
    const agent = newAgent(ctx.app);
    await loginAs(agent, user);
    const res = await postForm(
      agent,
      '/account/password',
      { current_password: user.password, new_password: 'short', new_password_confirm: 'other' },
      { from: '/account' },
    );
    expect(res.status).toBe(422);
    expect(res.text).toContain('au moins 10 caractères');
    expect(res.text).toContain('ne correspondent pas');
  });
});

describe('language switch', () => {
  test('when a visitor picks EN, then a cookie keeps English over Accept-Language', async () => {
    const agent = newAgent(ctx.app);
    const res = await postForm(
      agent,
      '/locale',
      { locale: 'en', returnTo: '/login' },
      { from: '/login' },
    );
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/login');
    const page = await agent.get('/login').set('Accept-Language', 'fr-FR');
    expect(page.text).toContain('<html lang="en">');
    expect(page.text).toContain('Log in to follow your requests');
  });

  test('when a logged-in user switches language, then it is saved on their account', async () => {
    const user = await createUser(ctx.db, { locale: 'fr' });
    const agent = newAgent(ctx.app);
    await loginAs(agent, user);
    await postForm(agent, '/locale', { locale: 'en', returnTo: '/account' }, { from: '/account' });
    expect((await ctx.db('users').where({ id: user.id }).first()).locale).toBe('en');
    const fresh = newAgent(ctx.app);
    await loginAs(fresh, user);
    expect((await fresh.get('/account')).text).toContain('<html lang="en">');
  });

  test('when the user setting and the browser disagree, then the user setting wins', async () => {
    const user = await createUser(ctx.db, { locale: 'en' });
    const agent = newAgent(ctx.app);
    await loginAs(agent, user);
    const page = await agent.get('/account').set('Accept-Language', 'fr');
    expect(page.text).toContain('<html lang="en">');
  });

  test('when the locale or returnTo is bogus, then nothing changes and we stay local', async () => {
    const agent = newAgent(ctx.app);
    const res = await postForm(
      agent,
      '/locale',
      { locale: 'xx', returnTo: '//evil.example' },
      { from: '/login' },
    );
    expect(res.headers.location).toBe('/');
  });
});
