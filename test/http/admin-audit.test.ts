import pino from 'pino';
import { paths } from '../../src/app';
import { taskList } from '../../src/jobs/worker';
import { fileMailer } from '../../src/notifications/mailer';
import { createOutbox } from '../../src/notifications/outbox';
import { createTestContext, type TestContext } from '../support/app';
import { loginAs, newAgent, postForm, type Agent } from '../support/agent';
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

/** The lines of the history section of an admin page, as text. */
async function history(path: string): Promise<string[]> {
  const html = (await agent.get(path)).text;
  const start = html.indexOf('class="history__list"');
  if (start === -1) return [];
  const list = html.slice(start, html.indexOf('</ol>', start));
  return [...list.matchAll(/<li>([\s\S]*?)<\/li>/g)].map((m) =>
    m[1]
      .replace(/<[^>]+>/g, ' ')
      .replace(/&#39;/g, "'")
      .replace(/\s+/g, ' ')
      .trim(),
  );
}

async function auditRows(subjectType: string, subjectId: number | null) {
  const q = ctx.db('audit_events').where({ subject_type: subjectType }).orderBy('id');
  if (subjectId === null) q.whereNull('subject_id');
  else q.where({ subject_id: subjectId });
  return q.select('actor_id', 'action', 'field', 'from_value', 'to_value', 'created_at');
}

describe('audit of admin actions on users', () => {
  test('creation, role change, deactivation and password are recorded: who, what, from → to, when', async () => {
    const created = await postForm(
      agent,
      '/admin/users',
      {
        name: 'Inès Suivi',
        email: 'ines@example.com',
        role: 'employee',
        password: 'first-password-1',
      },
      { from: '/admin/users/new' },
    );
    expect(created.status).toBe(302);
    const ines = await ctx.db('users').where({ email: 'ines@example.com' }).first();

    const edit = await postForm(agent, `/admin/users/${ines.id}`, {
      name: 'Inès Martin',
      email: 'ines@example.com',
      role: 'technician',
      password: 'second-password-2',
    });
    expect(edit.status).toBe(302);

    const rows = await auditRows('user', ines.id);
    expect(rows.map((r) => [r.action, r.from_value, r.to_value])).toEqual([
      ['user.created', null, 'employee'],
      ['user.name_changed', 'Inès Suivi', 'Inès Martin'],
      ['user.role_changed', 'employee', 'technician'],
      ['user.deactivated', null, null],
      ['user.password_set', null, null],
    ]);
    expect(rows.every((r) => r.actor_id === admin.id)).toBe(true);
    expect(Date.now() - rows[0].created_at.getTime()).toBeLessThan(60_000);

    // Shown on the user's admin page, newest first, in the reader's words.
    const lines = await history(`/admin/users/${ines.id}`);
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^Mot de passe défini par un administrateur Ada Admin · /);
    expect(lines[1]).toMatch(/^Compte désactivé Ada Admin/);
    expect(lines[2]).toMatch(/^Rôle : Employé → Technicien Ada Admin/);
    expect(lines[3]).toMatch(/^Nom : Inès Suivi → Inès Martin/);
    expect(lines[4]).toMatch(/^Compte créé avec le rôle Employé/);
  });

  test('a refused change records nothing (the last admin cannot be demoted)', async () => {
    const before = (await auditRows('user', admin.id)).length;
    const res = await postForm(agent, `/admin/users/${admin.id}`, {
      name: admin.name,
      email: admin.email,
      role: 'employee',
      active: '1',
    });
    expect(res.status).toBe(422);
    expect(await auditRows('user', admin.id)).toHaveLength(before);
  });

  test('saving a form without changes records nothing', async () => {
    const user = await createUser(ctx.db, { name: 'Sans Changement' });
    await postForm(agent, `/admin/users/${user.id}`, {
      name: user.name,
      email: user.email,
      role: user.role,
      active: '1',
    });
    expect(await auditRows('user', user.id)).toEqual([]);
    expect(await history(`/admin/users/${user.id}`)).toEqual([]);
    expect((await agent.get(`/admin/users/${user.id}`)).text).toContain(
      'Aucune modification enregistrée.',
    );
  });
});

describe('audit of admin actions on categories', () => {
  test('creation, rename, default assignee, deactivation and moves are shown on the category page', async () => {
    const tech = await createUser(ctx.db, { role: 'technician', name: 'Téo Tech' });
    await postForm(
      agent,
      '/admin/categories',
      { name: 'Imprimantes' },
      { from: '/admin/categories/new' },
    );
    await postForm(
      agent,
      '/admin/categories',
      { name: 'Réseau' },
      { from: '/admin/categories/new' },
    );
    const cat = await ctx.db('categories').where({ name: 'Imprimantes' }).first();

    await postForm(agent, `/admin/categories/${cat.id}`, {
      name: 'Imprimantes et scanners',
      default_assignee_id: String(tech.id),
      active: '1',
    });
    await postForm(
      agent,
      `/admin/categories/${cat.id}/move`,
      { direction: 'down' },
      { from: '/admin/categories' },
    );
    await postForm(agent, `/admin/categories/${cat.id}`, {
      name: 'Imprimantes et scanners',
      default_assignee_id: '',
    });

    const rows = await auditRows('category', cat.id);
    expect(rows.map((r) => [r.action, r.from_value, r.to_value])).toEqual([
      ['category.created', null, 'Imprimantes'],
      ['category.renamed', 'Imprimantes', 'Imprimantes et scanners'],
      ['category.default_assignee_changed', null, 'Téo Tech'],
      ['category.moved', '1', '2'],
      ['category.default_assignee_changed', 'Téo Tech', null],
      ['category.deactivated', null, null],
    ]);
    const lines = await history(`/admin/categories/${cat.id}`);
    expect(lines[0]).toMatch(/^Catégorie désactivée Ada Admin/);
    expect(lines[1]).toMatch(/^Assignation par défaut : Téo Tech → \(aucun\)/);
    expect(lines[2]).toMatch(/^Position : 1 → 2/);
    expect(lines[5]).toMatch(/^Catégorie créée : Imprimantes/);
  });
});

describe('settings', () => {
  test('an admin changes the auto-close delay; the change is audited and used by the job', async () => {
    const page = await agent.get('/admin/settings');
    expect(page.status).toBe(200);
    expect(page.text).toMatch(/name="auto_close_days" value="7"/);

    const res = await postForm(agent, '/admin/settings', { auto_close_days: '3' });
    expect(res.status).toBe(302);
    const after = await agent.get('/admin/settings');
    expect(after.text).toContain('Paramètres enregistrés.');
    expect(after.text).toMatch(/name="auto_close_days" value="3"/);
    expect(await history('/admin/settings')).toEqual([
      expect.stringMatching(/^Délai de fermeture automatique \(jours\) : 7 → 3 Ada Admin · /),
    ]);

    // A ticket resolved 4 days ago closes with a 3-day delay (AUTO_CLOSE_DAYS is 7).
    const requester = await createUser(ctx.db);
    const now = new Date();
    const [ticket] = await ctx
      .db('tickets')
      .insert({
        title: 'Résolu',
        description: 'd',
        status: 'resolved',
        requester_id: requester.id,
        created_by_id: requester.id,
        resolved_at: new Date(now.getTime() - 4 * 24 * 3600 * 1000),
      })
      .returning('id');
    const silent = pino({ level: 'silent' });
    const tasks = taskList({
      db: ctx.db,
      logger: silent,
      clock: () => now,
      autoCloseDays: ctx.config.autoCloseDays,
      mailer: fileMailer(ctx.config.email, silent),
      outbox: createOutbox(ctx.config, paths.views),
    });
    await (tasks.auto_close_tickets as () => Promise<void>)();
    expect((await ctx.db('tickets').where({ id: ticket.id }).first()).status).toBe('closed');
  });

  test('a wrong value is refused on the same form with the input kept; nothing is saved', async () => {
    const before = await auditRows('settings', null);
    for (const value of ['0', '366', 'abc', '2.5', '']) {
      const res = await postForm(agent, '/admin/settings', { auto_close_days: value });
      expect(res.status).toBe(422);
      expect(res.text).toContain('Indiquez un nombre entier de jours entre 1 et 365.');
      expect(res.text).toContain(`value="${value}"`);
    }
    expect(await auditRows('settings', null)).toEqual(before);
  });

  test('saving the same value changes nothing and records nothing', async () => {
    const current = (await agent.get('/admin/settings')).text.match(
      /name="auto_close_days" value="(\d+)"/,
    )![1];
    const before = await auditRows('settings', null);
    await postForm(agent, '/admin/settings', { auto_close_days: current });
    expect((await agent.get('/admin/settings')).text).toContain('Aucun paramètre n’a changé.');
    expect(await auditRows('settings', null)).toEqual(before);
  });
});

describe('the admin log', () => {
  test('lists every admin action, newest first, linking to what changed', async () => {
    const res = await agent.get('/admin/audit');
    expect(res.status).toBe(200);
    const count = Number((await ctx.db('audit_events').count('* as n').first())!.n);
    expect(res.text.match(/<tr>\s*<td><time/g)).toHaveLength(Math.min(count, 50));
    expect(res.text).toContain('href="/admin/settings"');
    expect(res.text).toMatch(/href="\/admin\/categories\/\d+">Imprimantes et scanners<\/a>/);
  });

  test('pages by 50', async () => {
    const user = await createUser(ctx.db);
    await ctx.db('audit_events').insert(
      Array.from({ length: 60 }, (_, i) => ({
        actor_id: admin.id,
        action: 'user.name_changed',
        subject_type: 'user',
        subject_id: user.id,
        from_value: `n${i}`,
        to_value: `n${i + 1}`,
      })),
    );
    const first = await agent.get('/admin/audit');
    const next = /href="(\/admin\/audit\?before=\d+)" rel="next"/.exec(first.text)![1];
    const second = await agent.get(next);
    expect(second.status).toBe(200);
    expect(second.text).not.toContain('Nom : n59 → n60');
    expect(first.text).toContain('Nom : n59 → n60');
  });

  test('is for admins only', async () => {
    for (const role of ['employee', 'technician'] as const) {
      const other = newAgent(ctx.app);
      await loginAs(other, await createUser(ctx.db, { role }));
      for (const path of ['/admin/audit', '/admin/settings']) {
        expect((await other.get(path)).status).toBe(403);
      }
      const post = await postForm(
        other,
        '/admin/settings',
        { auto_close_days: '1' },
        { from: '/account' },
      );
      expect(post.status).toBe(403);
    }
  });
});
