import { exportTickets } from '../../src/tickets/queue.repo';
import { createTestContext, type TestContext } from '../support/app';
import { loginAs, newAgent, type Agent } from '../support/agent';
import { createUser, type TestUser } from '../support/factories';

let ctx: TestContext;
let tech: TestUser;
let staff: Agent;
let staffEn: Agent;
let requester: TestUser;

beforeAll(async () => {
  ctx = await createTestContext();
  tech = await createUser(ctx.db, { role: 'technician', locale: 'fr' });
  requester = await createUser(ctx.db, { name: 'Zoé "la" Martin' });
  staff = newAgent(ctx.app);
  await loginAs(staff, tech);
  staffEn = newAgent(ctx.app);
  await loginAs(staffEn, await createUser(ctx.db, { role: 'admin', locale: 'en' }));
  const rows = Array.from({ length: 23 }, (_, i) => ({
    title:
      i === 0
        ? '=HYPERLINK("http://evil")'
        : i === 1
          ? 'Écran; clavier, "souris"\nà changer'
          : `Ticket ${i}`,
    description: 'd',
    status: i % 2 ? 'new' : 'closed',
    priority: 'normal',
    requester_id: requester.id,
    created_by_id: requester.id,
    created_at: new Date(Date.UTC(2026, 10, 1, 8, i)),
    last_activity_at: new Date(Date.UTC(2026, 10, 2, 8, i)),
  }));
  await ctx.db('tickets').insert(rows);
});
afterAll(() => ctx.close());

/** A tiny CSV reader (quotes, doubled quotes, separators and line breaks in cells). */
function parse(text: string, sep: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      out.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  return out;
}

async function csv(agent: Agent, url: string) {
  const res = await agent
    .get(url)
    .buffer(true)
    .parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks).toString('utf8')));
    });
  return { res, text: res.body as string };
}

describe('CSV export', () => {
  test('when staff export in French, then the file is UTF-8 with a BOM, ";" separated, French headers, ISO dates, every row', async () => {
    const { res, text } = await csv(staff, '/tickets.csv');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.headers['content-disposition']).toMatch(
      /^attachment; filename="guichet-tickets-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const rows = parse(text.slice(1), ';');
    expect(rows[0].slice(0, 3)).toEqual(['Numéro', 'Titre', 'Statut']);
    expect(rows).toHaveLength(1 + 23);
    const tricky = rows.find((r) => r[1].startsWith('Écran'))!;
    expect(tricky[1]).toBe('Écran; clavier, "souris"\nà changer');
    expect(tricky[5]).toBe('Zoé "la" Martin');
    expect(tricky[8]).toBe('2026-11-01T08:01:00.000Z');
    // A formula typed in a title is defused.
    expect(rows.find((r) => r[1].includes('HYPERLINK'))![1]).toBe('\'=HYPERLINK("http://evil")');
  });

  test('when an English user exports, then headers are English and "," separates, unless ?sep= says otherwise', async () => {
    const en = parse((await csv(staffEn, '/tickets.csv')).text.slice(1), ',');
    expect(en[0].slice(0, 3)).toEqual(['Number', 'Title', 'Status']);
    const semi = parse((await csv(staffEn, '/tickets.csv?sep=semicolon')).text.slice(1), ';');
    expect(semi[0][0]).toBe('Number');
    expect(semi).toHaveLength(24);
  });

  test('when the queue is filtered, then the export holds exactly those tickets', async () => {
    const rows = parse(
      (await csv(staff, '/tickets.csv?status=new&sort=created')).text.slice(1),
      ';',
    ).slice(1);
    const expected = await ctx
      .db('tickets')
      .where({ status: 'new' })
      .orderBy([
        { column: 'created_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .pluck('id');
    expect(rows.map((r) => Number(r[0]))).toEqual(expected);
    expect(rows.every((r) => r[2] === 'Nouveau')).toBe(true);
  });

  test('when the export is walked in small batches, then every row comes once, in order', async () => {
    const ids: number[] = [];
    for await (const batch of exportTickets(
      ctx.db,
      { statuses: [], sort: 'activity', includeNotes: true },
      5,
    )) {
      expect(batch.length).toBeLessThanOrEqual(5);
      ids.push(...batch.map((r) => r.id));
    }
    const expected = await ctx
      .db('tickets')
      .orderBy([
        { column: 'last_activity_at', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .pluck('id');
    expect(ids).toEqual(expected);
  });

  test('when an employee asks for the export, then 403; logged out, the login page', async () => {
    const emp = newAgent(ctx.app);
    await loginAs(emp, requester);
    expect((await emp.get('/tickets.csv')).status).toBe(403);
    const anon = await newAgent(ctx.app).get('/tickets.csv');
    expect(anon.status).toBe(302);
    expect(anon.headers.location).toBe('/login?returnTo=%2Ftickets.csv');
  });

  test('when staff look at the queue, then its export link carries the same filters', async () => {
    const page = await staff.get('/tickets?status=new&priority=normal');
    expect(page.text).toContain('href="/tickets.csv?status=new&amp;priority=normal"');
  });

  test('when the queue is filtered by creation days (Paris time), then the page says so and the export follows', async () => {
    // The 23 tickets were created on 1 November between 09:00 and 09:22 in Paris.
    const sameDay = '/tickets.csv?created_from=2026-11-01&created_to=2026-11-01';
    expect(parse((await csv(staff, sameDay)).text.slice(1), ';').slice(1)).toHaveLength(23);
    const later = '/tickets.csv?created_from=2026-11-02';
    expect(parse((await csv(staff, later)).text.slice(1), ';').slice(1)).toHaveLength(0);
    // Not a day: ignored, like any unknown filter value.
    const junk = "/tickets.csv?created_from=2026-11-02'--";
    expect(parse((await csv(staff, junk)).text.slice(1), ';').slice(1)).toHaveLength(23);

    const page = await staff.get(
      '/tickets?created_from=2026-11-01&created_to=2026-11-01&status=new',
    );
    expect(page.text).toContain('Créés du 1 nov. 2026 au 1 nov. 2026');
    expect(page.text).toContain('<input type="hidden" name="created_from" value="2026-11-01">');
    expect(page.text).toContain('href="/tickets?status=new">Retirer');
    expect(page.text).toContain(
      'href="/tickets.csv?status=new&amp;created_from=2026-11-01&amp;created_to=2026-11-01"',
    );
  });
});
