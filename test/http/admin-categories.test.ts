import crypto from 'node:crypto';
import * as categories from '../../src/categories/categories.repo';
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

/** A category name no other test uses. */
const unique = (base: string) => `${base} ${crypto.randomBytes(3).toString('hex')}`;

async function createCategory(name = unique('Catégorie'), defaultAssigneeId: number | null = null) {
  return categories.insertCategory(ctx.db, { name, defaultAssigneeId });
}

const row = (id: number) => ctx.db('categories').where({ id }).first();

describe('admin category management', () => {
  test('when an admin creates a category, then it is listed last, active, with its default assignee', async () => {
    // Arrange
    const before = await createCategory();
    const tech = await createUser(ctx.db, { role: 'technician', name: 'Tina Tech' });
    const name = unique('Réseau');

    // Act
    const res = await postForm(
      agent,
      '/admin/categories',
      { name: `  ${name} `, default_assignee_id: String(tech.id) },
      { from: '/admin/categories/new' },
    );

    // Assert
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/admin/categories');
    const created = await ctx.db('categories').where({ name }).first();
    expect(created).toMatchObject({ active: true, default_assignee_id: tech.id });
    expect(created.position).toBeGreaterThan(before.position);
    const list = await agent.get('/admin/categories');
    expect(list.text).toContain(`La catégorie « ${name} » est créée.`);
    expect(list.text).toContain('Tina Tech');
    expect(list.text.indexOf(before.name)).toBeLessThan(list.text.indexOf(`>${name}</a>`));
  });

  test('when the name is already used in another case, then the form says so and keeps the input', async () => {
    const existing = await createCategory(unique('Imprimantes'));
    const count = await ctx.db('categories').count('* as n').first();

    const res = await postForm(
      agent,
      '/admin/categories',
      { name: existing.name.toUpperCase(), default_assignee_id: '' },
      { from: '/admin/categories/new' },
    );

    expect(res.status).toBe(422);
    expect(res.text).toContain('Une catégorie porte déjà ce nom.');
    expect(res.text).toContain(`value="${existing.name.toUpperCase()}"`);
    expect(res.text).toContain('aria-invalid=true');
    expect(await ctx.db('categories').count('* as n').first()).toEqual(count);
  });

  test('when the name is empty or too long, then the field says so', async () => {
    const empty = await postForm(
      agent,
      '/admin/categories',
      { name: '   ' },
      { from: '/admin/categories/new' },
    );
    expect(empty.status).toBe(422);
    expect(empty.text).toContain('Ce champ est obligatoire.');

    const long = await postForm(
      agent,
      '/admin/categories',
      { name: 'x'.repeat(81) },
      { from: '/admin/categories/new' },
    );
    expect(long.status).toBe(422);
    expect(long.text).toContain('80 caractères au maximum.');
  });

  test('when an admin renames a category, then the new name shows in the list', async () => {
    const category = await createCategory();
    const name = unique('Logiciels');

    const res = await postForm(
      agent,
      `/admin/categories/${category.id}`,
      { name, default_assignee_id: '', active: '1' },
      { from: `/admin/categories/${category.id}` },
    );

    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/admin/categories');
    expect(await row(category.id)).toMatchObject({ name, active: true });
    const list = await agent.get('/admin/categories');
    expect(list.text).toContain(`La catégorie « ${name} » est enregistrée.`);
    expect(list.text).not.toContain(category.name);
  });

  test('when a rename takes another category’s name, then the form says so and keeps the input', async () => {
    const taken = await createCategory();
    const category = await createCategory();

    const res = await postForm(
      agent,
      `/admin/categories/${category.id}`,
      { name: taken.name.toLowerCase(), active: '1' },
      { from: `/admin/categories/${category.id}` },
    );

    expect(res.status).toBe(422);
    expect(res.text).toContain('Une catégorie porte déjà ce nom.');
    expect(res.text).toContain(`value="${taken.name.toLowerCase()}"`);
    expect((await row(category.id)).name).toBe(category.name);
  });

  test('when an admin deactivates a category, then it is marked and no longer offered, but kept', async () => {
    const category = await createCategory();
    expect(await categories.listActiveCategories(ctx.db)).toContainEqual({
      id: category.id,
      name: category.name,
    });

    const res = await postForm(
      agent,
      `/admin/categories/${category.id}`,
      { name: category.name, default_assignee_id: '' },
      { from: `/admin/categories/${category.id}` },
    );

    expect(res.status).toBe(302);
    expect((await row(category.id)).active).toBe(false);
    const offered = await categories.listActiveCategories(ctx.db);
    expect(offered.map((c) => c.id)).not.toContain(category.id);
    expect(await categories.findCategory(ctx.db, category.id)).toMatchObject({
      name: category.name,
      active: false,
    });
    const list = await agent.get('/admin/categories');
    expect(list.text).toMatch(
      new RegExp(`id="category-${category.id}" class="is-inactive"[\\s\\S]*?Désactivée`),
    );
    const form = await agent.get(`/admin/categories/${category.id}`);
    expect(form.text).not.toMatch(/id="field-active"[^>]*checked/);
  });

  test('when a category is moved, then it swaps places with its neighbour', async () => {
    const a = await createCategory(unique('Alpha'));
    const b = await createCategory(unique('Bravo'));
    const c = await createCategory(unique('Charlie'));
    const order = async () =>
      (await categories.listCategories(ctx.db))
        .map((x) => x.id)
        .filter((id) => [a.id, b.id, c.id].includes(id));

    const up = await postForm(
      agent,
      `/admin/categories/${c.id}/move`,
      { direction: 'up' },
      { from: '/admin/categories' },
    );
    expect(up.status).toBe(302);
    expect(up.headers.location).toBe(`/admin/categories#category-${c.id}`);
    expect(await order()).toEqual([a.id, c.id, b.id]);
    const list = await agent.get('/admin/categories');
    expect(list.text).toContain(`« ${c.name} » est montée d’un rang.`);
    expect(list.text).toContain(`Monter « ${c.name} »`);
    expect(list.text).toContain(`Descendre « ${c.name} »`);

    await postForm(
      agent,
      `/admin/categories/${a.id}/move`,
      { direction: 'down' },
      { from: '/admin/categories' },
    );
    expect(await order()).toEqual([c.id, a.id, b.id]);
  });

  test('when the last category is moved down, then nothing changes and the admin is told', async () => {
    const last = await createCategory();
    const positions = await ctx.db('categories').orderBy('id').pluck('position');

    const res = await postForm(
      agent,
      `/admin/categories/${last.id}/move`,
      { direction: 'down' },
      { from: '/admin/categories' },
    );

    expect(res.status).toBe(302);
    expect(await ctx.db('categories').orderBy('id').pluck('position')).toEqual(positions);
    expect((await agent.get('/admin/categories')).text).toContain(
      `« ${last.name} » est déjà en fin de liste.`,
    );
  });

  test('when the direction is neither up nor down, then 400', async () => {
    const category = await createCategory();
    const res = await postForm(
      agent,
      `/admin/categories/${category.id}/move`,
      { direction: 'sideways' },
      { from: '/admin/categories' },
    );
    expect(res.status).toBe(400);
  });

  test('when the default assignee is not an active technician or admin, then the field says so', async () => {
    const employee = await createUser(ctx.db, { role: 'employee', name: 'Emile Employé' });
    const gone = await createUser(ctx.db, { role: 'technician', active: false, name: 'Gone Tech' });
    const form = await agent.get('/admin/categories/new');
    expect(form.text).toContain('>Ada Admin</option>');
    expect(form.text).not.toContain('Emile Employé');
    expect(form.text).not.toContain('Gone Tech');

    for (const id of [String(employee.id), String(gone.id), '999999', 'abc']) {
      const name = unique('Téléphonie');
      const res = await postForm(
        agent,
        '/admin/categories',
        { name, default_assignee_id: id },
        { from: '/admin/categories/new' },
      );
      expect(res.status).toBe(422);
      expect(res.text).toContain('Choisissez un technicien ou un administrateur actif.');
      expect(res.text).toContain(`value="${name}"`);
      expect(await ctx.db('categories').where({ name }).first()).toBeUndefined();
    }

    const category = await createCategory();
    const edit = await postForm(
      agent,
      `/admin/categories/${category.id}`,
      { name: category.name, default_assignee_id: String(employee.id), active: '1' },
      { from: `/admin/categories/${category.id}` },
    );
    expect(edit.status).toBe(422);
    expect(edit.text).toContain('Choisissez un technicien ou un administrateur actif.');
    expect((await row(category.id)).default_assignee_id).toBeNull();
  });

  test('when the default assignee was deactivated since, then the form still shows them as unavailable', async () => {
    const tech = await createUser(ctx.db, { role: 'technician', name: 'Paul Parti' });
    const category = await createCategory(unique('Messagerie'), tech.id);
    await ctx.db('users').where({ id: tech.id }).update({ active: false });

    const form = await agent.get(`/admin/categories/${category.id}`);

    expect(form.text).toMatch(
      new RegExp(`value="${tech.id}" selected>Paul Parti \\(indisponible\\)`),
    );
  });

  test('when the category id is unknown or not a number, then 404', async () => {
    expect((await agent.get('/admin/categories/999999')).status).toBe(404);
    expect((await agent.get('/admin/categories/abc')).status).toBe(404);
    expect((await agent.get('/admin/categories/99999999999999999999999')).status).toBe(404);
    const token = await csrfFrom(agent, '/admin/categories');
    for (const path of ['/admin/categories/999999', '/admin/categories/abc/move']) {
      const res = await agent
        .post(path)
        .type('form')
        .send({ _csrf: token, name: 'x', direction: 'up' });
      expect(res.status).toBe(404);
    }
  });

  test('when a form is posted without its CSRF token, then 403 and nothing is created', async () => {
    const name = unique('Sans jeton');
    const res = await agent.post('/admin/categories').type('form').send({ name });
    expect(res.status).toBe(403);
    expect(await ctx.db('categories').where({ name }).first()).toBeUndefined();
  });

  test.each(['employee', 'technician'] as const)(
    'when a %s opens or posts to the category pages, then 403',
    async (role) => {
      const category = await createCategory();
      const user = await createUser(ctx.db, { role });
      const a = newAgent(ctx.app);
      await loginAs(a, user);
      expect((await a.get('/admin/categories')).status).toBe(403);
      expect((await a.get(`/admin/categories/${category.id}`)).status).toBe(403);
      expect((await a.get('/')).text).not.toContain('href="/admin/categories"');
      const token = await csrfFrom(a, '/account');
      const posts = [
        a
          .post('/admin/categories')
          .type('form')
          .send({ _csrf: token, name: unique('Intrus') }),
        a
          .post(`/admin/categories/${category.id}`)
          .type('form')
          .send({ _csrf: token, name: 'Renamed' }),
        a
          .post(`/admin/categories/${category.id}/move`)
          .type('form')
          .send({ _csrf: token, direction: 'up' }),
      ];
      for (const res of await Promise.all(posts)) expect(res.status).toBe(403);
      expect(await row(category.id)).toMatchObject({
        name: category.name,
        position: category.position,
        active: true,
      });
    },
  );

  test('when an admin is on the categories page, then the nav link is marked current', async () => {
    const res = await agent.get('/admin/categories');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<a href="/admin/categories" aria-current=page>Catégories</a>');
  });
});
