import { createTestContext, type TestContext } from '../support/app';
import { loginAs, newAgent, postForm, versionOf, type Agent } from '../support/agent';
import { createUser, type TestUser } from '../support/factories';

let ctx: TestContext;
let tech: TestUser;
let staff: Agent;
let requester: TestUser;
const TOTAL = 130;

beforeAll(async () => {
  ctx = await createTestContext();
  tech = await createUser(ctx.db, { role: 'technician' });
  requester = await createUser(ctx.db);
  staff = newAgent(ctx.app);
  await loginAs(staff, tech);
  // Many tickets sharing timestamps, so that paging must break ties by id.
  const base = new Date('2026-11-01T08:00:00Z').getTime();
  const rows = Array.from({ length: TOTAL }, (_, i) => ({
    title: `Ticket ${i}`,
    description: 'd',
    status: ['new', 'in_progress', 'waiting', 'resolved', 'closed'][i % 5],
    priority: ['low', 'normal', 'high', 'urgent'][i % 4],
    requester_id: requester.id,
    created_by_id: requester.id,
    assignee_id: i % 3 === 0 ? tech.id : null,
    created_at: new Date(base + Math.floor(i / 4) * 60000),
    last_activity_at: new Date(base + Math.floor(i / 3) * 60000),
  }));
  await ctx.db('tickets').insert(rows);
});
afterAll(() => ctx.close());

async function walk(url: string): Promise<string[]> {
  const seen: string[] = [];
  let next: string | null = url;
  for (let pages = 0; next && pages < 20; pages++) {
    const res = await staff.get(next);
    expect(res.status).toBe(200);
    seen.push(
      ...[...res.text.matchAll(/<td data-label="#"><a href="\/tickets\/(\d+)">/g)].map((m) => m[1]),
    );
    const link = /href="([^"]+)" rel="next"/.exec(res.text);
    next = link ? link[1].replace(/&amp;/g, '&') : null;
  }
  return seen;
}

describe('queue paging', () => {
  test.each(['activity', 'created', 'oldest', 'priority'])(
    'when paging through the queue sorted by %s, then every ticket appears exactly once',
    async (sort) => {
      const ids = await walk(`/tickets?sort=${sort}`);
      expect(ids).toHaveLength(TOTAL);
      expect(new Set(ids).size).toBe(TOTAL);
    },
  );

  test('when sorted by priority, then urgent tickets come first, oldest first', async () => {
    const res = await staff.get('/tickets?sort=priority');
    const first = /<td data-label="#"><a href="\/tickets\/(\d+)">/.exec(res.text)![1];
    const row = await ctx
      .db('tickets')
      .where({ id: Number(first) })
      .first();
    expect(row.priority).toBe('urgent');
    const oldestUrgent = await ctx
      .db('tickets')
      .where({ priority: 'urgent' })
      .orderBy(['created_at', 'id'])
      .first();
    expect(row.id).toBe(oldestUrgent.id);
  });

  test('when filters combine, then the page and the tab counts agree with the database', async () => {
    const res = await staff.get('/tickets?status=new,waiting&assignee=me&sort=created');
    const ids = [...res.text.matchAll(/<td data-label="#"><a href="\/tickets\/(\d+)">/g)].map((m) =>
      Number(m[1]),
    );
    const expected = await ctx
      .db('tickets')
      .whereIn('status', ['new', 'waiting'])
      .where({ assignee_id: tech.id })
      .pluck('id');
    expect(ids.sort()).toEqual(expected.sort());
    const newCount = await ctx
      .db('tickets')
      .where({ status: 'new', assignee_id: tech.id })
      .count('* as n')
      .first();
    expect(res.text).toMatch(new RegExp(`Nouveau <span class="count">${newCount!.n}</span>`));
  });

  test('when one filter takes many values in turn, then each page lists exactly its tickets', async () => {
    // Past PostgreSQL's first five executions of a prepared statement it may keep one plan for
    // every value: a common and a rare value, each asked for again and again, must both stay right.
    const rare = await createUser(ctx.db, { role: 'technician' });
    const [only] = await ctx
      .db('tickets')
      .insert({
        title: 'Seul ticket',
        description: 'd',
        requester_id: requester.id,
        created_by_id: requester.id,
        assignee_id: rare.id,
        last_activity_at: new Date('2026-11-01T06:00:00Z'),
      })
      .returning('id');
    const firstPage = async (where: Record<string, unknown>) =>
      (
        await ctx
          .db('tickets')
          .where(where)
          .orderBy([
            { column: 'last_activity_at', order: 'desc' },
            { column: 'id', order: 'desc' },
          ])
          .limit(50)
          .pluck('id')
      ).map(String);
    for (let round = 0; round < 8; round++) {
      expect(await walk(`/tickets?assignee=${rare.id}`)).toEqual([String(only.id)]);
      expect((await walk(`/tickets?assignee=${tech.id}`)).slice(0, 50)).toEqual(
        await firstPage({ assignee_id: tech.id }),
      );
      const status = ['new', 'closed'][round % 2];
      expect((await walk(`/tickets?status=${status}`)).slice(0, 50)).toEqual(
        await firstPage({ status }),
      );
    }
  });

  test('when the cursor or the filters are garbage, then the page still answers 200', async () => {
    const forged = (k: string[]) => Buffer.from(JSON.stringify({ k, id: 1 })).toString('base64url');
    for (const q of [
      'cursor=%%%',
      'cursor=eyJrIjpbIngiXSwiaWQiOi0xfQ',
      `cursor=${forged(['not a date'])}`,
      `sort=priority&cursor=${forged(['9', '2026-01-01 00:00:00+00'])}`,
      `sort=created&cursor=${forged(["2026-01-01'; drop table tickets;--"])}`,
      'status=bogus',
      'sort=drop',
      'assignee=-1',
      'category=1e9',
      'priority=critical&priority=high',
    ]) {
      expect((await staff.get(`/tickets?${q}`)).status).toBe(200);
    }
  });
});

describe('search beyond the recent window', () => {
  test('when a search word is rare and old, then the full-text index finds exactly the matching tickets, in order', async () => {
    const old = new Date('2020-01-01T00:00:00Z');
    const inserted = await ctx
      .db('tickets')
      .insert(
        [1, 2, 3].map((i) => ({
          title: `Onduleur défaillant ${i}`,
          description: 'La batterie ne tient plus.',
          requester_id: requester.id,
          created_by_id: requester.id,
          created_at: old,
          last_activity_at: new Date(old.getTime() + i * 1000),
          search_vector: ctx.db.raw(`guichet_tsv(?, 'A')`, [`Onduleur défaillant ${i}`]),
        })),
      )
      .returning('id');
    const expected = inserted.map((r) => r.id).reverse();
    const { listQueue } = await import('../../src/tickets/queue.repo');
    // Straight through the index (few matches), through a window too small, through a window
    // large enough: the same tickets in the same order.
    for (const [sparseMatches, searchWindow] of [
      [1000, 5000],
      [1, 2],
      [1, 5000],
    ]) {
      const page = await listQueue(ctx.db, {
        statuses: [],
        q: 'onduleurs',
        sort: 'activity',
        includeNotes: true,
        searchWindow,
        sparseMatches,
      });
      expect(page.rows.map((r) => r.id)).toEqual(expected);
    }
  });
});

describe('search by relevance', () => {
  test('when staff search a word, then a title match ranks above a description match, and a match in an internal note still counts', async () => {
    const now = new Date();
    const ticket = (title: string, description: string, note: string | null, i: number) => ({
      title,
      description,
      requester_id: requester.id,
      created_by_id: requester.id,
      created_at: now,
      last_activity_at: new Date(now.getTime() - i * 1000),
      search_vector: ctx.db.raw(`guichet_tsv(?, 'A') || guichet_tsv(?, 'B')`, [title, description]),
      notes_vector: note ? ctx.db.raw(`guichet_tsv(?, 'C')`, [note]) : ctx.db.raw(`''::tsvector`),
    });
    // The most recent first: relevance, not recency, must decide the order.
    const rows = await ctx
      .db('tickets')
      .insert([
        ticket('Poste bloqué', 'Rien à signaler', 'Le Zyxel a été redémarré', 0),
        ticket('Routeur muet', 'Le Zyxel clignote en orange', null, 1),
        ticket('Zyxel du 2e : Zyxel hors service', 'Aucun voyant', null, 2),
      ])
      .returning('id');
    const [note, description, title] = rows.map((r) => String(r.id));
    const res = await staff.get('/tickets?q=zyxel');
    expect(res.status).toBe(200);
    const ids = [...res.text.matchAll(/<td data-label="#"><a href="\/tickets\/(\d+)">/g)].map(
      (m) => m[1],
    );
    expect(ids).toEqual([title, description, note]);
    // Through the index (few matches), ranked in one query from the recent window, from a
    // window too small (the index again), and from the recency index: the same order.
    const { listQueue } = await import('../../src/tickets/queue.repo');
    const relevance = (q: string, options: object) =>
      listQueue(ctx.db, {
        statuses: [],
        q,
        sort: 'relevance',
        includeNotes: true,
        relevanceWindow: 3,
        ...options,
      }).then((page) => page.rows.map((r) => String(r.id)));
    for (const [sparseMatches, searchWindow, denseShare] of [
      [1000, 5000, Infinity],
      [1, 5000, Infinity],
      [1, 2, Infinity],
      [1000, 5000, 0],
    ]) {
      expect(await relevance('zyxel', { searchWindow, sparseMatches, denseShare })).toEqual([
        title,
        description,
        note,
      ]);
    }
    // The recency index holds notes too: without them, a match in a note alone is left out;
    // an excluded word (maybe in a note only) goes through the other paths.
    for (const denseShare of [Infinity, 0]) {
      expect(await relevance('zyxel', { includeNotes: false, denseShare })).toEqual([
        title,
        description,
      ]);
      expect(await relevance('zyxel -orange', { denseShare })).toEqual([title, note]);
      // The note ticket matches in its notes, where "signaler" is not: it must be there.
      expect((await relevance('zyxel -signaler', { denseShare })).sort()).toEqual(
        [title, description, note].sort(),
      );
    }
    // A forged cursor in the middle of a page starts at that page (offsets are whole pages).
    const forged = Buffer.from(JSON.stringify({ k: ['7'], id: 1 })).toString('base64url');
    const fromForged = await listQueue(ctx.db, {
      statuses: [],
      q: 'zyxel',
      sort: 'relevance',
      includeNotes: true,
      sparseMatches: 1,
      relevanceWindow: 3,
      cursor: forged,
    });
    expect(fromForged.rows.map((r) => String(r.id))).toEqual([title, description, note]);
  });
});

describe('the tab counts are shared for a few seconds', () => {
  let shared: TestContext;
  let now = new Date('2026-11-20T10:00:00Z');
  let agent: Agent;
  let requesterId: number;

  beforeAll(async () => {
    shared = await createTestContext({ deps: { clock: () => now, queueFacetsCacheMs: 5_000 } });
    const user = await createUser(shared.db, { role: 'technician' });
    requesterId = (await createUser(shared.db)).id;
    agent = newAgent(shared.app);
    await loginAs(agent, user);
  });
  afterAll(() => shared.close());

  const counts = async () => {
    const res = await agent.get('/tickets?priority=high&status=waiting');
    expect(res.status).toBe(200);
    const count = (label: string) =>
      Number(new RegExp(`${label} <span class="count">(\\d+)</span>`).exec(res.text)?.[1] ?? 0);
    return { new: count('Nouveau'), inProgress: count('En cours') };
  };
  const fileBehindItsBack = async () =>
    (
      await shared
        .db('tickets')
        .insert({
          title: 't',
          description: 'd',
          priority: 'high',
          requester_id: requesterId,
          created_by_id: requesterId,
        })
        .returning('id')
    )[0].id as number;

  test('when another process files a ticket, then the counts show it once the cache time has passed', async () => {
    expect(await counts()).toEqual({ new: 0, inProgress: 0 });
    await fileBehindItsBack();
    now = new Date(now.getTime() + 4_000);
    expect(await counts()).toEqual({ new: 0, inProgress: 0 });
    now = new Date(now.getTime() + 1_001);
    expect(await counts()).toEqual({ new: 1, inProgress: 0 });
  });

  test('when a technician changes a ticket here, then the counts show it on the next page', async () => {
    const before = await counts();
    const id = await fileBehindItsBack();
    const res = await postForm(
      agent,
      `/tickets/${id}/fields`,
      {
        version: await versionOf(agent, id),
        status: 'in_progress',
      },
      { from: `/tickets/${id}` },
    );
    expect(res.status).toBe(302);
    expect(await counts()).toEqual({ new: before.new, inProgress: before.inProgress + 1 });
  });

  test('when a technician joins, then a ticket page offers them at once; one added behind its back, after the cache time', async () => {
    const id = await fileBehindItsBack();
    const offered = async (name: string) =>
      (await agent.get(`/tickets/${id}`)).text.includes(`>${name}</option>`);
    expect(await offered('Zoé Behind')).toBe(false);
    await shared
      .db('users')
      .insert({ email: 'zoe@example.test', name: 'Zoé Behind', role: 'technician' });
    expect(await offered('Zoé Behind')).toBe(false);
    await createUser(shared.db, { role: 'technician', name: 'Yves Here' });
    expect(await offered('Yves Here')).toBe(true);
    expect(await offered('Zoé Behind')).toBe(true);
  });
});

describe('pages read through prepared statements', () => {
  test('when a migration adds columns while the app runs, then the queue, a search and a ticket page still answer', async () => {
    const [{ id }] = await ctx
      .db('tickets')
      .insert({
        title: 'Imprimante bloquée',
        description: 'd',
        requester_id: requester.id,
        created_by_id: requester.id,
        search_vector: ctx.db.raw(`guichet_tsv(?, 'A')`, ['Imprimante bloquée']),
      })
      .returning('id');
    const pages = ['/tickets', '/tickets?q=imprimante', `/tickets/${id}`];
    // Twice each: every connection of the pool has prepared its statements.
    for (let round = 0; round < 2; round++)
      for (const page of pages) expect((await staff.get(page)).status).toBe(200);
    // The session is read through a prepared statement too (session-store.ts).
    const tables = ['tickets', 'ticket_events', 'users', 'session'];
    for (const table of tables)
      await ctx.db.raw(`alter table ${table} add column added_later integer`);
    try {
      for (const page of pages) expect((await staff.get(page)).status).toBe(200);
    } finally {
      for (const table of tables) await ctx.db.raw(`alter table ${table} drop column added_later`);
    }
  });
});

describe('list rows read as one document', () => {
  test('when a ticket has microseconds in its times and no category or assignee, then its row shows them to the millisecond and a dash', async () => {
    const [{ id }] = await ctx
      .db('tickets')
      .insert({
        title: 'Écran « noir » & clavier',
        description: 'd',
        requester_id: requester.id,
        created_by_id: requester.id,
        created_at: '2026-11-30 23:59:59.999999+00',
        // The latest activity of all: the first row of the queue.
        last_activity_at: '2099-12-01 09:15:30.123999+00',
      })
      .returning('id');
    const res = await staff.get('/tickets');
    expect(res.status).toBe(200);
    const row = /<tr>\s*<td data-label="#"[^]*?<\/tr>/.exec(res.text)![0];
    expect(row).toContain(`href="/tickets/${id}"`);
    expect(row).toContain('Écran « noir » &amp; clavier');
    expect(row).toContain('datetime="2026-11-30T23:59:59.999Z"');
    expect(row).toContain('datetime="2099-12-01T09:15:30.123Z"');
    expect(row).toMatch(/<td data-label="[^"]+">—<\/td>/);
  });
});

describe('names in lists of tickets', () => {
  test('when a requester, an assignee and a category are renamed or added behind the server’s back, then the next list shows the names as they are', async () => {
    const own = await createTestContext();
    try {
      const assignee = await createUser(own.db, { role: 'technician', name: 'Ana Tech' });
      const employee = await createUser(own.db, { name: 'Bob Employé' });
      const [category] = await own.db('categories').insert({ name: 'Réseau' }).returning('id');
      const ticket = (title: string, requesterId: number, at: Date) => ({
        title,
        description: 'd',
        requester_id: requesterId,
        created_by_id: requesterId,
        assignee_id: assignee.id,
        category_id: category.id,
        created_at: at,
        last_activity_at: at,
        search_vector: own.db.raw(`guichet_tsv(?, 'A')`, [title]),
      });
      await own.db('tickets').insert(ticket('Wi-Fi', employee.id, new Date()));
      const agent = newAgent(own.app);
      await loginAs(agent, assignee);
      const list = async () => {
        const res = await agent.get('/tickets');
        expect(res.status).toBe(200);
        return res.text;
      };
      const assigneeCell = (name: string) => new RegExp(`data-label="[^"]+">${name}</td>`);

      const before = await list();
      expect(before).toContain('Bob Employé · Réseau');
      expect(before).toMatch(assigneeCell('Ana Tech'));

      // As another server process would: straight in the database.
      await own.db('users').where({ id: employee.id }).update({ name: 'Robert Employé' });
      await own.db('users').where({ id: assignee.id }).update({ name: 'Anaïs Tech' });
      await own.db('categories').where({ id: category.id }).update({ name: 'Réseau & Wi-Fi' });
      const later = await createUser(own.db, { name: 'Chloé Nouvelle' });
      await own.db('tickets').insert(ticket('Imprimante', later.id, new Date(Date.now() + 1000)));

      const after = await list();
      expect(after).toContain('Robert Employé · Réseau &amp; Wi-Fi');
      expect(after).toContain('Chloé Nouvelle · Réseau &amp; Wi-Fi');
      expect(after).toMatch(assigneeCell('Anaïs Tech'));
      expect(after).not.toContain('Bob Employé');
      expect(after).not.toMatch(assigneeCell('Ana Tech'));

      // A search's list reads its names the same way.
      const found = await agent.get('/tickets?q=imprimante');
      expect(found.status).toBe(200);
      expect(found.text).toContain('Chloé Nouvelle · Réseau &amp; Wi-Fi');
      expect(found.text).not.toContain('Bob Employé');
    } finally {
      await own.close();
    }
  });
});
