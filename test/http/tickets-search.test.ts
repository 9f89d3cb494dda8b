import { createTestContext, type TestContext } from '../support/app';
import { loginAs, newAgent, postMultipart, versionOf, type Agent } from '../support/agent';
import { createUser } from '../support/factories';

let ctx: TestContext;
let empA: Agent;
let empB: Agent;
let tech: Agent;
const ids: Record<string, number> = {};

const idFrom = (location: string) => Number(/\/tickets\/(\d+)/.exec(location)![1]);

/** Files a ticket through the create form, as the browser does. */
async function file(agent: Agent, title: string, description: string): Promise<number> {
  const res = await postMultipart(
    agent,
    '/tickets',
    { title, description, priority: 'normal' },
    [],
    { from: '/tickets/new' },
  );
  if (res.status !== 302) throw new Error(`ticket not created: ${res.status}`);
  return idFrom(res.headers.location);
}

async function reply(agent: Agent, id: number, body: string, internal = false) {
  const res = await postMultipart(
    agent,
    `/tickets/${id}/replies`,
    { version: await versionOf(agent, id), body, ...(internal ? { internal: '1' } : {}) },
    [],
    { from: `/tickets/${id}` },
  );
  if (res.status !== 302) throw new Error(`reply not added: ${res.status}`);
}

const search = (agent: Agent, q: string) => agent.get(`/tickets?q=${encodeURIComponent(q)}`);
const linksTo = (html: string, id: number) => html.includes(`href="/tickets/${id}"`);

beforeAll(async () => {
  ctx = await createTestContext();
  const [a, b, t] = await Promise.all([
    createUser(ctx.db),
    createUser(ctx.db),
    createUser(ctx.db, { role: 'technician' }),
  ]);
  empA = newAgent(ctx.app);
  empB = newAgent(ctx.app);
  tech = newAgent(ctx.app);
  await loginAs(empA, a);
  await loginAs(empB, b);
  await loginAs(tech, t);

  ids.printer = await file(empA, 'Imprimante en panne', 'Plus rien ne sort depuis ce matin.');
  ids.wifi = await file(empA, 'Le réseau Wi-Fi est lent', 'Les pages mettent du temps.');
  ids.english = await file(empA, 'Printer jammed on floor 2', 'The paper is stuck again.');
  ids.replied = await file(empA, 'Souris sans fil', 'Elle se déconnecte.');
  await reply(tech, ids.replied, 'Le récepteur capybara est à remplacer.');
  ids.noted = await file(empA, 'Clavier qui colle', 'Les touches restent enfoncées.');
  await reply(tech, ids.noted, 'Fournisseur ornithorynque à relancer.', true);
  ids.script = await file(
    empA,
    'Message bizarre',
    '<script>alert(1)</script> imprimante zanzibar affiche <img src=x onerror=alert(2) puis plante',
  );
  ids.otherPrinter = await file(empB, 'Imprimante du 4e bloquée', 'Bourrage kookaburra.');
});
afterAll(() => ctx.close());

describe('searching tickets', () => {
  test('when an employee searches a plural French word, then the ticket with the singular is found', async () => {
    const res = await search(empA, 'imprimantes');
    expect(res.status).toBe(200);
    expect(linksTo(res.text, ids.printer)).toBe(true);
    expect(linksTo(res.text, ids.wifi)).toBe(false);
  });

  test('when an employee searches without accents, then the accented ticket is found', async () => {
    const res = await search(empA, 'reseau');
    expect(res.status).toBe(200);
    expect(linksTo(res.text, ids.wifi)).toBe(true);
    expect(linksTo(res.text, ids.printer)).toBe(false);
  });

  test('when an employee searches English words, then the English ticket is found', async () => {
    const res = await search(empA, 'printer jammed');
    expect(res.status).toBe(200);
    expect(linksTo(res.text, ids.english)).toBe(true);
    expect(linksTo(res.text, ids.wifi)).toBe(false);
  });

  test('when a word is only in a public reply, then the requester finds the ticket', async () => {
    const res = await search(empA, 'capybara');
    expect(linksTo(res.text, ids.replied)).toBe(true);
  });

  test('when a word is only in an internal note, then staff find the ticket', async () => {
    const res = await search(tech, 'ornithorynque');
    expect(res.status).toBe(200);
    expect(linksTo(res.text, ids.noted)).toBe(true);
  });

  test('when a word is only in an internal note, then the requester does not find the ticket', async () => {
    const res = await search(empA, 'ornithorynque');
    expect(res.status).toBe(200);
    expect(linksTo(res.text, ids.noted)).toBe(false);
    expect(res.text).not.toContain('ornithorynque</mark>');
  });

  test("when the words match another employee's ticket, then it is not in the results", async () => {
    const byWord = await search(empA, 'kookaburra');
    const byShared = await search(empA, 'imprimante');
    expect(linksTo(byWord.text, ids.otherPrinter)).toBe(false);
    expect(byWord.text).not.toContain('Imprimante du 4e bloquée');
    expect(linksTo(byShared.text, ids.printer)).toBe(true);
    expect(linksTo(byShared.text, ids.otherPrinter)).toBe(false);
    // The same search finds it for its requester: the word does match.
    expect(linksTo((await search(empB, 'kookaburra')).text, ids.otherPrinter)).toBe(true);
  });

  test.each(['#', ''])(
    'when an employee searches "%s<id>" of their ticket, then they go straight to it',
    async (prefix) => {
      const res = await search(empA, `${prefix}${ids.wifi}`);
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe(`/tickets/${ids.wifi}`);
    },
  );

  test.each(['#', ''])(
    'when an employee searches "%s<id>" of someone else\'s ticket, then they are not sent there',
    async (prefix) => {
      const res = await search(empA, `${prefix}${ids.otherPrinter}`);
      expect(res.status).toBe(200);
      expect(res.headers.location).toBeUndefined();
      expect(linksTo(res.text, ids.otherPrinter)).toBe(false);
    },
  );

  test('when staff search "#<id>" of any ticket, then they go straight to it', async () => {
    const res = await search(tech, `#${ids.otherPrinter}`);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(`/tickets/${ids.otherPrinter}`);
  });

  test('when a result matches, then its snippet highlights the words and escapes the text', async () => {
    // Act
    const res = await search(empA, 'zanzibar');

    // Assert
    expect(res.status).toBe(200);
    expect(linksTo(res.text, ids.script)).toBe(true);
    expect(res.text).toMatch(/<p class="snippet">[^]*<mark>zanzibar<\/mark>/);
    expect(res.text).not.toContain('<script>alert(1)</script>');
    expect(res.text).not.toMatch(/<script>alert/i);
  });

  test('when a word is in the title, then the title is marked where it is listed, and the excerpt shows the description', async () => {
    // Act
    const res = await search(tech, 'bloquee');

    // Assert
    expect(res.status).toBe(200);
    expect(res.text).toContain(
      `<a href="/tickets/${ids.otherPrinter}">Imprimante du 4e <mark>bloquée</mark></a>`,
    );
    expect(res.text).toMatch(/<p class="snippet">Bourrage kookaburra\.<\/p>/);
  });

  test('when the description holds markup, then the highlighted snippet shows it escaped', async () => {
    // Act: the excerpt shows the markup as typed, escaped.
    const res = await search(empA, 'imprimante');

    // Assert
    const snippets = [...res.text.matchAll(/<p class="snippet">([^]*?)<\/p>/g)].map((m) => m[1]);
    const snippet = snippets.find((s) => s.includes('zanzibar'));
    expect(snippet).toBeDefined();
    expect(snippet).toContain('<mark>imprimante</mark>');
    expect(snippet).toContain('&lt;img src=x onerror=alert(2)');
    expect(res.text).not.toContain('<img src=x');
    expect(res.text).not.toMatch(/<script>alert/i);
  });

  test.each([`'; drop table tickets; --`, '"unterminated', 'a & | !', '!!!', '<->', ':*', '\\'])(
    'when the search is %p, then the page answers normally',
    async (q) => {
      const asEmployee = await search(empA, q);
      const asStaff = await search(tech, q);
      expect(asEmployee.status).toBe(200);
      expect(asStaff.status).toBe(200);
      expect(Number((await ctx.db('tickets').count({ n: '*' }).first())!.n)).toBe(
        Object.keys(ids).length,
      );
    },
  );
});
