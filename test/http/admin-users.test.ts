import { createTestContext, type TestContext } from '../support/app';
import { csrfFrom, loginAs, newAgent, postForm, type Agent } from '../support/agent';
import { createUser, type TestUser } from '../support/factories';

let ctx: TestContext;
let admin: TestUser;
let agent: Agent;
beforeAll(async () => {
  ctx = await createTestContext();
  admin = await createUser(ctx.db, { role: 'admin', name: 'Ada Admin' });
  agent = newAgent(ctx.app);
  await loginAs(agent, admin);
});
afterAll(() => ctx.close());

describe('admin user management', () => {
  test('when an admin creates a technician, then the account can log in with that role', async () => {
    const res = await postForm(
      agent,
      '/admin/users',
      {
        name: 'Théo Technicien',
        email: 'Theo@Example.com',
        role: 'technician',
        locale: 'en',
        password: 'initial-password',
      },
      { from: '/admin/users/new' },
    );
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/admin/users');
    const list = await agent.get('/admin/users');
    expect(list.text).toContain('Le compte de Théo Technicien est créé.');
    expect(list.text).toContain('theo@example.com');

    const theo = newAgent(ctx.app);
    await loginAs(theo, { email: 'theo@example.com', password: 'initial-password' });
    const queue = await theo.get('/tickets');
    expect(queue.text).toContain('Ticket queue');
    expect(queue.text).toContain('Théo Technicien');
  });

  test('when the email is already used, then the form says so and keeps the input', async () => {
    const existing = await createUser(ctx.db);
    const res = await postForm(
      agent,
      '/admin/users',
      {
        name: 'Doublon',
        email: existing.email.toUpperCase(),
        role: 'employee',
        password: 'initial-password',
      },
      { from: '/admin/users/new' },
    );
    expect(res.status).toBe(422);
    expect(res.text).toContain('Un compte utilise déjà cette adresse e-mail.');
    expect(res.text).toContain('value="Doublon"');
  });

  test('when fields are invalid, then each gets its message and nothing is created', async () => {
    const before = await ctx.db('users').count('* as n').first();
    const res = await postForm(
      agent,
      '/admin/users',
      { name: '', email: 'nope', role: 'superuser', password: 'short' },
      { from: '/admin/users/new' },
    );
    expect(res.status).toBe(422);
    expect(res.text).toContain('Ce champ est obligatoire.');
    expect(res.text).toContain('Choisissez une valeur de la liste.');
    expect(res.text).toContain('value="nope"');
    expect(await ctx.db('users').count('* as n').first()).toEqual(before);
  });

  test('when an admin deactivates a user, then their live session ends at once', async () => {
    const user = await createUser(ctx.db, { name: 'Leaving Soon' });
    const theirs = newAgent(ctx.app);
    await loginAs(theirs, user);
    expect((await theirs.get('/account')).status).toBe(200);

    const res = await postForm(
      agent,
      `/admin/users/${user.id}`,
      { name: user.name, email: user.email, role: 'employee' },
      { from: `/admin/users/${user.id}` },
    );

    expect(res.status).toBe(302);
    expect((await ctx.db('users').where({ id: user.id }).first()).active).toBe(false);
    const after = await theirs.get('/account');
    expect(after.status).toBe(302);
    expect(after.headers.location).toMatch(/^\/login/);
    const login = await postForm(newAgent(ctx.app), '/login', {
      email: user.email,
      password: user.password,
    });
    expect(login.status).toBe(401);
  });

  test('when the last active admin would be demoted or deactivated, then it is refused', async () => {
    const isolated = await createTestContext();
    try {
      const only = await createUser(isolated.db, { role: 'admin', name: 'Only Admin' });
      const a = newAgent(isolated.app);
      await loginAs(a, only);
      const changes: Record<string, string>[] = [
        { role: 'technician', active: '1' },
        { role: 'admin' },
      ];
      for (const change of changes) {
        const res = await postForm(
          a,
          `/admin/users/${only.id}`,
          { name: only.name, email: only.email, ...change },
          { from: `/admin/users/${only.id}` },
        );
        expect(res.status).toBe(422);
        expect(res.text).toContain('dernier administrateur actif');
      }
      expect(await isolated.db('users').where({ id: only.id }).first()).toMatchObject({
        role: 'admin',
        active: true,
      });
    } finally {
      await isolated.close();
    }
  });

  test('when a role changes, then it applies at the next request of that user', async () => {
    const user = await createUser(ctx.db, { role: 'admin' });
    const theirs = newAgent(ctx.app);
    await loginAs(theirs, user);
    expect((await theirs.get('/admin/users')).status).toBe(200);
    await postForm(
      agent,
      `/admin/users/${user.id}`,
      { name: user.name, email: user.email, role: 'technician', active: '1' },
      { from: `/admin/users/${user.id}` },
    );
    expect((await theirs.get('/admin/users')).status).toBe(403);
  });

  test('when an admin sets a new password for someone, then it works and their sessions end', async () => {
    const user = await createUser(ctx.db);
    const theirs = newAgent(ctx.app);
    await loginAs(theirs, user);
    await postForm(
      agent,
      `/admin/users/${user.id}`,
      {
        name: user.name,
        email: user.email,
        role: 'employee',
        active: '1',
        password: 'brand-new-password',
      },
      { from: `/admin/users/${user.id}` },
    );
    expect((await theirs.get('/account')).status).toBe(302);
    await loginAs(newAgent(ctx.app), { email: user.email, password: 'brand-new-password' });
  });

  test('when the list is filtered, then only matching users show', async () => {
    await createUser(ctx.db, { name: 'Zébulon Unique', role: 'technician' });
    const res = await agent.get('/admin/users?q=zébulon&role=technician');
    expect(res.text).toContain('Zébulon Unique');
    expect(res.text).not.toContain(`>Ada Admin</a>`);
    const weird = await agent.get('/admin/users?q=%27%3B%20drop%20table%20users%3B--&role=god');
    expect(weird.status).toBe(200);
  });

  test('when the user id is unknown or not a number, then 404', async () => {
    expect((await agent.get('/admin/users/999999')).status).toBe(404);
    expect((await agent.get('/admin/users/abc')).status).toBe(404);
    expect((await agent.get('/admin/users/99999999999999999999999')).status).toBe(404);
    const token = await csrfFrom(agent, '/admin/users');
    const post = await agent.post('/admin/users/999999').type('form').send({ _csrf: token });
    expect(post.status).toBe(404);
  });

  test.each(['employee', 'technician'] as const)(
    'when a %s opens the admin pages, then 403',
    async (role) => {
      const user = await createUser(ctx.db, { role });
      const a = newAgent(ctx.app);
      await loginAs(a, user);
      expect((await a.get('/admin/users')).status).toBe(403);
      expect((await a.get(`/admin/users/${admin.id}`)).status).toBe(403);
      const token = await csrfFrom(a, '/account');
      const res = await a
        .post(`/admin/users/${user.id}`)
        .type('form')
        .send({ _csrf: token, name: 'x', email: user.email, role: 'admin', active: '1' });
      expect(res.status).toBe(403);
      expect((await ctx.db('users').where({ id: user.id }).first()).role).toBe(role);
    },
  );
});
