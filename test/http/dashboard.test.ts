import { createTestContext, type TestContext } from '../support/app';
import { loginAs, newAgent, type Agent } from '../support/agent';
import { createUser, type TestUser } from '../support/factories';

/**
 * The dashboard on a small desk whose every figure is known, with the clock frozen on
 * Wednesday 18 November 2026, 11:00 in Paris (the desk's time zone).
 */
const NOW = new Date('2026-11-18T10:00:00Z');
const h = (n: number) => n * 3600 * 1000;

let ctx: TestContext;
let tech: TestUser;
let requester: TestUser;
let staff: Agent;
let staffEn: Agent;
let employee: Agent;
const ids: Record<string, number> = {};

async function insertTicket(
  key: string,
  t: {
    status: string;
    priority?: string;
    categoryId?: number | null;
    assigneeId?: number | null;
    createdAt: string;
    respondedAfter?: number;
    resolvedAfter?: number;
  },
) {
  const created = new Date(t.createdAt);
  const [row] = await ctx
    .db('tickets')
    .insert({
      title: `Ticket ${key}`,
      description: 'd',
      status: t.status,
      priority: t.priority ?? 'normal',
      category_id: t.categoryId ?? null,
      assignee_id: t.assigneeId ?? null,
      requester_id: requester.id,
      created_by_id: requester.id,
      created_at: created,
      last_activity_at: created,
      first_response_at:
        t.respondedAfter === undefined ? null : new Date(created.getTime() + t.respondedAfter),
      resolved_at:
        t.resolvedAfter === undefined ? null : new Date(created.getTime() + t.resolvedAfter),
    })
    .returning('id');
  ids[key] = row.id;
}

beforeAll(async () => {
  ctx = await createTestContext({ deps: { clock: () => NOW, dashboardCacheMs: 0 } });
  tech = await createUser(ctx.db, { role: 'technician', locale: 'fr' });
  const otherTech = await createUser(ctx.db, { role: 'technician' });
  requester = await createUser(ctx.db);
  const [network] = await ctx
    .db('categories')
    .insert({ name: 'Réseau', position: 1 })
    .returning('id');
  const [mail] = await ctx
    .db('categories')
    .insert({ name: 'Messagerie', position: 2 })
    .returning('id');

  // Open tickets.
  await insertTicket('o1', {
    status: 'new',
    priority: 'urgent',
    categoryId: network.id,
    createdAt: '2026-11-17T09:00:00Z',
  });
  await insertTicket('o2', {
    status: 'new',
    categoryId: mail.id,
    assigneeId: tech.id,
    createdAt: '2026-11-10T09:00:00Z',
  });
  await insertTicket('o3', {
    status: 'in_progress',
    priority: 'high',
    categoryId: network.id,
    assigneeId: tech.id,
    createdAt: '2026-10-01T08:00:00Z',
    respondedAfter: h(2),
  });
  await insertTicket('o4', {
    status: 'waiting',
    assigneeId: otherTech.id,
    createdAt: '2026-11-02T09:00:00Z',
  });
  // Sunday 23:30 UTC is Monday 00:30 in Paris: this week, not last week.
  await insertTicket('o5', {
    status: 'new',
    priority: 'low',
    categoryId: mail.id,
    createdAt: '2026-11-15T23:30:00Z',
  });
  // Finished tickets.
  await insertTicket('r1', {
    status: 'resolved',
    assigneeId: tech.id,
    createdAt: '2026-11-16T08:00:00Z',
    respondedAfter: h(1),
    resolvedAfter: h(24),
  });
  await insertTicket('r2', {
    status: 'closed',
    createdAt: '2026-11-03T08:00:00Z',
    respondedAfter: h(3),
    resolvedAfter: h(72),
  });
  await insertTicket('r3', {
    status: 'closed',
    createdAt: '2026-10-05T10:00:00Z',
    respondedAfter: h(5),
    resolvedAfter: h(120),
  });

  staff = newAgent(ctx.app);
  await loginAs(staff, tech);
  staffEn = newAgent(ctx.app);
  await loginAs(staffEn, await createUser(ctx.db, { role: 'admin', locale: 'en' }));
  employee = newAgent(ctx.app);
  await loginAs(employee, requester);
});
afterAll(() => ctx.close());

const clean = (s: string) =>
  s
    .replace(/&amp;/g, '&')
    .replace(/&#39;/g, "'")
    .replace(/[\u00a0\u202f]/g, ' ')
    .trim();

async function page(agent: Agent, path = '/dashboard'): Promise<string> {
  const res = await agent.get(path);
  expect(res.status).toBe(200);
  return res.text;
}

/** [label, value, href] of each "right now" card. */
function cards(html: string): Map<string, { value: string; href: string }> {
  const out = new Map<string, { value: string; href: string }>();
  const re =
    /<a class="stat" href="([^"]+)"><span class="stat__value">([^<]+)<\/span><span class="stat__label">([^<]+)<\/span>/g;
  for (const m of html.matchAll(re))
    out.set(clean(m[3]), { value: clean(m[2]), href: clean(m[1]) });
  return out;
}

function figure(html: string, label: string): { value: string; href: string; block: string } {
  const start = html.indexOf(`<h3 class="figure__label">${label}</h3>`);
  expect(start).toBeGreaterThan(-1);
  const block = html.slice(start, html.indexOf('</div>', start));
  const m = /<p class="figure__value"><a href="([^"]+)">([^<]+)<\/a>/.exec(block)!;
  return { href: clean(m[1]), value: clean(m[2]), block: clean(block.replace(/<[^>]+>/g, ' ')) };
}

function bars(html: string, headingId: string): Map<string, { value: string; href: string }> {
  const start = html.indexOf(`id="${headingId}"`);
  const section = html.slice(start, html.indexOf('</section>', start));
  const out = new Map<string, { value: string; href: string }>();
  const re =
    /<a class="bars__row" href="([^"]+)">\s*<span class="bars__label">([^<]+)<\/span>\s*<span class="bars__value">([^<]+)<\/span>/g;
  for (const m of section.matchAll(re))
    out.set(clean(m[2]), { value: clean(m[3]), href: clean(m[1]) });
  return out;
}

/** The ticket ids a queue page lists. */
async function queueIds(path: string): Promise<number[]> {
  const html = await page(staff, path);
  const body = html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
  return [...new Set([...body.matchAll(/href="\/tickets\/(\d+)"/g)].map((m) => Number(m[1])))];
}

const idsOf = (...keys: string[]) => keys.map((k) => ids[k]).sort((a, b) => a - b);
const sorted = (list: number[]) => [...list].sort((a, b) => a - b);

describe('GET /dashboard', () => {
  test('is for staff: an employee gets 403, a visitor goes to the login page', async () => {
    expect((await employee.get('/dashboard')).status).toBe(403);
    const res = await newAgent(ctx.app).get('/dashboard');
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/login?returnTo=%2Fdashboard');
  });

  test("is the home page of staff; employees' home stays their ticket list", async () => {
    expect((await staff.get('/')).headers.location).toBe('/dashboard');
    expect((await employee.get('/')).headers.location).toBe('/tickets');
  });

  test('counts the open tickets now, and each card lists exactly those tickets', async () => {
    const c = cards(await page(staff));
    const expected: [string, string, string[]][] = [
      ['Tickets ouverts', '5', ['o1', 'o2', 'o3', 'o4', 'o5']],
      ['Nouveaux', '3', ['o1', 'o2', 'o5']],
      ['En cours', '1', ['o3']],
      ['En attente du demandeur', '1', ['o4']],
      ['Non assignés', '2', ['o1', 'o5']],
      ['Assignés à moi', '2', ['o2', 'o3']],
    ];
    for (const [label, value, keys] of expected) {
      expect({ label, value: c.get(label)?.value }).toEqual({ label, value });
      expect({ label, ids: sorted(await queueIds(c.get(label)!.href)) }).toEqual({
        label,
        ids: idsOf(...keys),
      });
    }
  });

  test('breaks the open tickets down by priority and by category, with links', async () => {
    const html = await page(staff);
    const priority = bars(html, 'priority-title');
    expect([...priority.entries()].map(([k, v]) => [k, v.value])).toEqual([
      ['Urgente', '1'],
      ['Haute', '1'],
      ['Normale', '2'],
      ['Basse', '1'],
    ]);
    expect(sorted(await queueIds(priority.get('Normale')!.href))).toEqual(idsOf('o2', 'o4'));

    const category = bars(html, 'category-title');
    expect([...category.entries()].map(([k, v]) => [k, v.value])).toEqual([
      ['Messagerie', '2'],
      ['Réseau', '2'],
      ['Sans catégorie', '1'],
    ]);
    expect(sorted(await queueIds(category.get('Sans catégorie')!.href))).toEqual(idsOf('o4'));
    expect(sorted(await queueIds(category.get('Réseau')!.href))).toEqual(idsOf('o1', 'o3'));
  });

  test('lists the oldest open tickets first, like the queue sorted by age', async () => {
    const html = await page(staff);
    const start = html.indexOf('id="oldest-title"');
    const section = html.slice(start, html.indexOf('</section>', start));
    const shown = [
      ...new Set([...section.matchAll(/href="\/tickets\/(\d+)"/g)].map((m) => Number(m[1]))),
    ];
    expect(shown).toEqual(['o3', 'o4', 'o2', 'o5', 'o1'].map((k) => ids[k]));
    const all = clean(/href="(\/tickets\?[^"]*sort=oldest[^"]*)"/.exec(section)![1]);
    expect(await queueIds(all)).toEqual(shown);
  });

  test('counts created and resolved tickets over 30 days against the 30 before', async () => {
    const html = await page(staff);
    const created = figure(html, 'Tickets créés');
    expect(created.value).toBe('6');
    expect(created.block).toContain('+200 %');
    expect(created.block).toContain('contre 2 avant');
    const before = clean(/href="([^"]+)">contre 2 avant/.exec(html)![1]);
    expect(before).toBe('/tickets?created_from=2026-09-20&created_to=2026-10-19');
    expect(sorted(await queueIds(before))).toEqual(idsOf('o3', 'r3'));
    expect(created.href).toBe('/tickets?created_from=2026-10-20&created_to=2026-11-18');
    expect(sorted(await queueIds(created.href))).toEqual(idsOf('o1', 'o2', 'o4', 'o5', 'r1', 'r2'));

    const resolved = figure(html, 'Tickets résolus');
    expect(resolved.value).toBe('2');
    expect(resolved.block).toContain('+100 %');
    expect(sorted(await queueIds(resolved.href))).toEqual(idsOf('r1', 'r2'));
  });

  test('gives the median and 90th percentile of response and resolution times', async () => {
    const html = await page(staff);
    // First responses in the period: 1 h and 3 h; before: 2 h and 5 h.
    const response = figure(html, 'Délai de première réponse');
    expect(response.value).toBe('2 h');
    expect(response.block).toContain('90 % en moins de 2,8 h');
    expect(response.block).toContain('2 tickets');
    expect(response.block).toContain('-43 %');
    expect(response.block).toContain('contre 3,5 h avant');
    expect(sorted(await queueIds(response.href))).toEqual(idsOf('r1', 'r2'));
    // Resolutions in the period: 24 h and 72 h; before: 120 h.
    const resolution = figure(html, 'Délai de résolution');
    expect(resolution.value).toBe('2 jours');
    expect(resolution.block).toContain('90 % en moins de 2,8 jours');
    expect(resolution.block).toContain('-60 %');
    expect(resolution.block).toContain('contre 5 jours avant');
    expect(html).toMatch(/change--better[^>]*>[\s\S]*?-60/);
  });

  test('the period selector changes the window: 7 days', async () => {
    const html = await page(staff, '/dashboard?period=7');
    expect(html).toContain('Les 7 derniers jours');
    expect(html).toMatch(/href="\/dashboard\?period=7" aria-current=page/);
    const created = figure(html, 'Tickets créés');
    // 12 to 18 November: o1, o5 (Monday in Paris) and r1.
    expect(created.value).toBe('3');
    expect(created.href).toBe('/tickets?created_from=2026-11-12&created_to=2026-11-18');
    // An unknown period falls back to 30 days rather than failing.
    expect(await page(staff, '/dashboard?period=abc')).toContain('Les 30 derniers jours');
  });

  test('charts created vs resolved per week, with the numbers in a table of links', async () => {
    const html = await page(staff);
    const svg = /<svg class="chart__svg"[\s\S]*?<\/svg>/.exec(html)![0];
    expect(svg).toContain('role="img"');
    expect(svg).toMatch(
      /<title id="weekly-chart-title">Créés et résolus par semaine, 12 dernières semaines<\/title>/,
    );
    expect(clean(svg)).toContain('8 tickets créés et 3 résolus');
    // 12 weeks, two series: 12 points each, 11 segments each; 12 week labels.
    expect(svg.match(/<circle class="chart__point"/g)).toHaveLength(12);
    expect(svg.match(/<rect class="chart__point"/g)).toHaveLength(12);
    expect(svg.match(/class="chart__label/g)).toHaveLength(12);
    expect(svg).toContain('>16 nov.</text>');

    const rows = [
      ...html.matchAll(
        /<tr><th scope="row">([^<]+)<\/th><td class="num"><a href="([^"]+)">(\d+)<\/a><\/td><td class="num"><a href="([^"]+)">(\d+)<\/a><\/td><\/tr>/g,
      ),
    ].map((m) => ({ week: clean(m[1]), created: m[3], createdHref: clean(m[2]), resolved: m[5] }));
    expect(rows).toHaveLength(12);
    expect(rows[11]).toMatchObject({
      week: 'Semaine du 16 novembre 2026 (en cours)',
      created: '3',
      resolved: '1',
      createdHref: '/tickets?created_from=2026-11-16&created_to=2026-11-22',
    });
    expect(sorted(await queueIds(rows[11].createdHref))).toEqual(idsOf('o1', 'o5', 'r1'));
    expect(rows[10]).toMatchObject({
      week: 'Semaine du 9 novembre 2026',
      created: '1',
      resolved: '0',
    });
    expect(rows[9]).toMatchObject({ created: '2', resolved: '1' });
    expect(rows[0].week).toBe('Semaine du 31 août 2026');
  });

  test('speaks English to an English-speaking admin, numbers and dates included', async () => {
    const html = await page(staffEn);
    expect(html).toContain('<html lang="en">');
    expect(cards(html).get('Open tickets')?.value).toBe('5');
    expect(figure(html, 'Time to resolution').value).toBe('2 days');
    expect(html).toContain('Created and resolved per week, last 12 weeks');
    expect(html).toContain('>16 Nov</text>');
  });
});

describe('the figures are shared for a minute', () => {
  let cached: TestContext;
  let now = new Date(NOW);
  let agent: Agent;

  beforeAll(async () => {
    cached = await createTestContext({ deps: { clock: () => now, dashboardCacheMs: 60_000 } });
    const user = await createUser(cached.db, { role: 'technician' });
    agent = newAgent(cached.app);
    await loginAs(agent, user);
  });
  afterAll(() => cached.close());

  const openCount = async () =>
    cards((await agent.get('/dashboard')).text).get('Tickets ouverts')?.value;

  test('a new ticket shows within a minute, not before', async () => {
    expect(await openCount()).toBe('0');
    const requesterId = (await createUser(cached.db)).id;
    await cached.db('tickets').insert({
      title: 't',
      description: 'd',
      requester_id: requesterId,
      created_by_id: requesterId,
    });
    now = new Date(NOW.getTime() + 30_000);
    expect(await openCount()).toBe('0');
    now = new Date(NOW.getTime() + 61_000);
    expect(await openCount()).toBe('1');
  });
});
