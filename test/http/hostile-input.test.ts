import { queueQuerySchema } from '../../src/tickets/tickets.schemas';
import { createTestContext, type TestContext } from '../support/app';
import {
  csrfFrom,
  loginAs,
  newAgent,
  postForm,
  postMultipart,
  versionOf,
  type Agent,
} from '../support/agent';
import { createUser, type TestUser } from '../support/factories';
import { changedTables, concrete, escapeHtml, fingerprint, leaks } from '../support/hostile';
import { listRoutes } from '../support/routes';
import { fieldError } from '../support/uploads';

/**
 * Hostile values in every filter, sort, search and id: SQL injection strings, unknown enum
 * values, ids that are huge, negative or not numbers, repeated parameters, over-long fields,
 * NUL bytes, emoji, right-to-left text and 10,000-character lines. Each gets a 2xx page or a
 * clear 4xx, never a 500 nor a database error, and a refused request leaves no row behind.
 */
let ctx: TestContext;
let employee: TestUser;
let emp: Agent;
let tech: Agent;
let admin: Agent;
let ticketId: number;

const idFrom = (location: string) => Number(/\/tickets\/(\d+)/.exec(location)![1]);

beforeAll(async () => {
  ctx = await createTestContext();
  employee = await createUser(ctx.db);
  emp = newAgent(ctx.app);
  await loginAs(emp, employee);
  tech = newAgent(ctx.app);
  await loginAs(tech, await createUser(ctx.db, { role: 'technician' }));
  admin = newAgent(ctx.app);
  await loginAs(admin, await createUser(ctx.db, { role: 'admin' }));
  const res = await postMultipart(
    emp,
    '/tickets',
    { title: 'Imprimante bloquée', description: 'Elle ne répond plus.' },
    [],
    { from: '/tickets/new' },
  );
  ticketId = idFrom(res.headers.location);
});
afterAll(() => ctx.close());

const SQLI = [
  "'",
  '"',
  "' OR '1'='1",
  "' OR 1=1 --",
  '1 OR 1=1',
  "1' AND SLEEP(5)--",
  '1; SELECT pg_sleep(5)--',
  "'; DROP TABLE tickets; --",
  "'; UPDATE users SET role='admin'; --",
  '1) UNION SELECT null,version()--',
  "' UNION SELECT password_hash FROM users--",
  '$1',
  '?',
  '??',
  '\\',
  '%',
  '_',
  '!!:* & | <-> ()',
  "a:* & b:*A & !c & ('d' <2> e)",
  '${jndi:ldap://x}',
  'null',
  'undefined',
  '[object Object]',
  'priority desc; --',
  '(select 1)',
  'status,priority',
  'new,unknown,closed',
];

/** Every key the queue reads from its query string, taken from its schema, plus a few more. */
const QUEUE_PARAMS = [...Object.keys(queueQuerySchema.shape), 'page', 'sep'];

describe('SQL injection and unknown values in every filter, sort and search', () => {
  test('when every queue parameter carries each injection string, then each page answers 200 and nothing changes', async () => {
    const before = await fingerprint(ctx.db);
    const wrong: string[] = [];
    for (const param of QUEUE_PARAMS) {
      for (const value of SQLI) {
        for (const [who, agent, path] of [
          ['employee', emp, '/tickets'],
          ['technician', tech, '/tickets'],
          ['technician', tech, '/tickets.csv'],
        ] as const) {
          const url = `${path}?${param}=${encodeURIComponent(value)}`;
          const res = await agent.get(url);
          if (res.status !== 200 || leaks(res.text).length) {
            wrong.push(`${who} ${url} → ${res.status} ${leaks(res.text).join(',')}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(changedTables(before, await fingerprint(ctx.db))).toEqual([]);
    // Over a thousand requests: give a busy CI machine room.
  }, 180_000);

  test('when the admin lists carry injection strings, then they answer 200 and nothing changes', async () => {
    const before = await fingerprint(ctx.db);
    const wrong: string[] = [];
    for (const value of SQLI) {
      const v = encodeURIComponent(value);
      for (const url of [
        `/admin/users?q=${v}`,
        `/admin/users?role=${v}`,
        `/admin/outbox?q=${v}`,
        `/admin/outbox?status=${v}`,
        `/admin/outbox?ticket=${v}`,
        `/admin/outbox?before=${v}`,
      ]) {
        const res = await admin.get(url);
        if (res.status !== 200 || leaks(res.text).length) wrong.push(`${url} → ${res.status}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(changedTables(before, await fingerprint(ctx.db))).toEqual([]);
  });

  test('when the search is an injection string, then it matches text, not everything', async () => {
    const res = await tech.get(`/tickets?q=${encodeURIComponent("' OR '1'='1")}`);
    expect(res.status).toBe(200);
    expect(res.text).not.toContain(`href="/tickets/${ticketId}"`);
  });

  test('when a login or a reset request carries injection strings, then it is a plain refusal', async () => {
    const before = await fingerprint(ctx.db);
    for (const value of ["' OR '1'='1' --", `${employee.email}' --`, "admin'/*"]) {
      const agent = newAgent(ctx.app);
      const login = await postForm(agent, '/login', { email: value, password: value });
      expect([400, 401]).toContain(login.status);
      expect(leaks(login.text)).toEqual([]);
      const login2 = await postForm(agent, '/login', { email: employee.email, password: value });
      expect(login2.status).toBe(401);
      const forgot = await postForm(agent, '/password/forgot', { email: value });
      expect(forgot.status).toBe(422);
    }
    const after = await fingerprint(ctx.db);
    expect(changedTables(before, after)).toEqual([]);
  });
});

describe('ids: huge, negative, not numbers', () => {
  const BAD_IDS = [
    '0',
    '-1',
    '1.5',
    '1e3',
    '0x10',
    '+1',
    ' 1',
    '2147483648',
    '9223372036854775807',
    '9223372036854775808',
    '99999999999999999999999999',
    'abc',
    "1'--",
    '1;select 1',
    '١٢٣',
    '%F0%9F%98%80',
    '%00',
    'null',
  ];

  test('when every route with an id gets each bad id, then GET answers 404 and POST 404 or 403, never 500, and nothing changes', async () => {
    const routes = listRoutes(ctx.app).filter(
      (r) => r.path.includes(':id') && ['GET', 'POST'].includes(r.method),
    );
    expect(routes.length).toBeGreaterThan(5);
    const token = await csrfFrom(admin, '/account');
    const before = await fingerprint(ctx.db);
    const wrong: string[] = [];
    for (const route of routes) {
      for (const id of BAD_IDS) {
        const url = concrete(route.path, { id: encodeURIComponent(id).replace(/%25/g, '%') });
        const res =
          route.method === 'GET'
            ? await admin.get(url)
            : await admin
                .post(url)
                .type('form')
                .send({ _csrf: token, version: '1', body: 'x', name: 'x', status: 'closed' });
        if (![400, 404].includes(res.status) || leaks(res.text).length) {
          wrong.push(`${route.method} ${url} → ${res.status}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(changedTables(before, await fingerprint(ctx.db))).toEqual([]);
    // Over a thousand requests: give a busy CI machine room.
  }, 180_000);

  test('when ids in a form are huge, negative or junk, then the form says so with 422 and nothing changes', async () => {
    const before = await fingerprint(ctx.db);
    for (const bad of ['-1', '99999999999999999999', '1e3', 'abc', '0']) {
      const fields = await postForm(
        tech,
        `/tickets/${ticketId}/fields`,
        { version: await versionOf(tech, ticketId), assignee_id: bad, category_id: bad },
        { from: `/tickets/${ticketId}` },
      );
      expect(fields.status).toBe(422);
      const created = await postMultipart(
        emp,
        '/tickets',
        { title: 'Catégorie piégée', description: 'x', category_id: bad },
        [],
        { from: '/tickets/new' },
      );
      expect(created.status).toBe(422);
      expect(created.text).toContain('value="Catégorie piégée"');
      const version = await postForm(
        tech,
        `/tickets/${ticketId}/fields`,
        { version: bad, priority: 'high' },
        { from: `/tickets/${ticketId}` },
      );
      expect([409, 422]).toContain(version.status);
    }
    expect(changedTables(before, await fingerprint(ctx.db))).toEqual([]);
  });
});

describe('unknown enum values and repeated parameters', () => {
  test('when a form carries an unknown status, priority, role, locale or direction, then it is refused with 4xx and nothing changes', async () => {
    const before = await fingerprint(ctx.db);
    const v = await versionOf(tech, ticketId);
    const from = { from: `/tickets/${ticketId}` };
    const answers = [
      await postForm(tech, `/tickets/${ticketId}/status`, { version: v, status: 'deleted' }, from),
      await postForm(tech, `/tickets/${ticketId}/fields`, { version: v, priority: 'p0' }, from),
      await postForm(tech, `/tickets/${ticketId}/fields`, { version: v, status: 'NEW' }, from),
      await postMultipart(
        tech,
        `/tickets/${ticketId}/replies`,
        { version: v, body: 'x', status: 'archived' },
        [],
        from,
      ),
      await postMultipart(
        emp,
        '/tickets',
        { title: 'x', description: 'x', priority: 'critical' },
        [],
        { from: '/tickets/new' },
      ),
      await postForm(
        admin,
        '/admin/users',
        { name: 'Root', email: 'root@example.com', role: 'root', password: 'long-password-1' },
        { from: '/admin/users/new' },
      ),
      await postForm(emp, '/account', { name: 'x', locale: 'de' }),
    ];
    expect(answers.map((r) => r.status)).toEqual([422, 422, 422, 422, 422, 422, 422]);
    for (const r of answers) expect(leaks(r.text)).toEqual([]);
    expect(changedTables(before, await fingerprint(ctx.db))).toEqual([]);
  });

  test('when a single-valued form field is sent twice, then the form refuses it with 4xx and nothing changes', async () => {
    const before = await fingerprint(ctx.db);
    const v = await versionOf(tech, ticketId);
    const from = { from: `/tickets/${ticketId}` };
    const answers = [
      await postForm(
        tech,
        `/tickets/${ticketId}/status`,
        { version: v, status: ['in_progress', 'closed'] },
        from,
      ),
      await postForm(
        tech,
        `/tickets/${ticketId}/fields`,
        { version: [v, v], priority: 'high' },
        from,
      ),
      await postForm(
        tech,
        `/tickets/${ticketId}/fields`,
        { version: v, assignee_id: ['1', '2'] },
        from,
      ),
      await postForm(tech, `/tickets/${ticketId}/take`, { version: [v, v] }, from),
      await postForm(
        admin,
        '/admin/users',
        {
          name: 'Deux',
          email: ['a@example.com', 'b@example.com'],
          role: 'employee',
          password: 'long-password-1',
        },
        { from: '/admin/users/new' },
      ),
      await postForm(
        admin,
        '/admin/categories',
        { name: ['Un', 'Deux'] },
        { from: '/admin/categories/new' },
      ),
      await postForm(emp, '/account', { name: ['Un', 'Deux'], locale: 'fr' }),
      await postForm(newAgent(ctx.app), '/login', {
        email: [employee.email, employee.email],
        password: employee.password,
      }),
    ];
    for (const r of answers) {
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(leaks(r.text)).toEqual([]);
    }
    expect(changedTables(before, await fingerprint(ctx.db))).toEqual([]);
  });

  test('when a single-valued filter is repeated, then the first value counts and the page answers 200', async () => {
    const urls = [
      '/tickets?status=new&status=bogus',
      '/tickets?priority=high&priority=low',
      '/tickets?sort=priority&sort=bogus',
      '/tickets?q=imprimante&q=autre',
      '/tickets?assignee=me&assignee=none',
      '/tickets?category=1&category=2',
      '/tickets?cursor=a&cursor=b',
      '/tickets?status[]=new',
      '/tickets?status[$ne]=closed',
      '/tickets?q[]=x',
      '/tickets.csv?sep=;&sep=,',
    ];
    for (const url of urls) {
      const res = await tech.get(url);
      expect(`${url} → ${res.status}`).toBe(`${url} → 200`);
    }
    const first = await tech.get('/tickets?q=imprimante&q=autre');
    expect(first.text).toContain(`href="/tickets/${ticketId}"`);
    const admins = [
      '/admin/users?q=a&q=b&role=admin&role=x',
      '/admin/outbox?status=failed&status=sent&q=a&q=b',
    ];
    for (const url of admins) expect((await admin.get(url)).status).toBe(200);
  });
});

describe('over-long fields get the limit in the message', () => {
  test.each([
    ['title', 201, 200],
    ['description', 20001, 20000],
  ])(
    'when the %s has %i characters, then 422 says "%i caractères au maximum" and nothing is created',
    async (field, length, max) => {
      const before = await ctx.db('tickets').count({ n: '*' }).first();
      const values = { title: 'Titre', description: 'Texte', [field]: 'é'.repeat(length) };
      const res = await postMultipart(emp, '/tickets', values, [], { from: '/tickets/new' });
      expect(res.status).toBe(422);
      expect(fieldError(res.text, field)).toBe(`${max} caractères au maximum.`);
      expect(await ctx.db('tickets').count({ n: '*' }).first()).toEqual(before);
    },
  );

  test('when a reply is longer than 20,000 characters, then 422 with the limit, the text kept, and no event', async () => {
    const events = await ctx.db('ticket_events').count({ n: '*' }).first();
    const body = `début ${'x'.repeat(20001)}`;
    const res = await postMultipart(
      emp,
      `/tickets/${ticketId}/replies`,
      { version: await versionOf(emp, ticketId), body },
      [],
      { from: `/tickets/${ticketId}` },
    );
    expect(res.status).toBe(422);
    expect(res.text).toContain('20000 caractères au maximum.');
    expect(res.text).toContain(body);
    expect(await ctx.db('ticket_events').count({ n: '*' }).first()).toEqual(events);
  });

  test('when names, emails and passwords are too long, then each form gives its limit', async () => {
    const before = await fingerprint(ctx.db);
    const user = await postForm(
      admin,
      '/admin/users',
      {
        name: 'n'.repeat(121),
        email: `${'e'.repeat(250)}@example.com`,
        role: 'employee',
        password: 'p'.repeat(201),
      },
      { from: '/admin/users/new' },
    );
    expect(user.status).toBe(422);
    expect(fieldError(user.text, 'name')).toBe('120 caractères au maximum.');
    expect(fieldError(user.text, 'email')).toBe('254 caractères au maximum.');
    expect(fieldError(user.text, 'password')).toBe('200 caractères au maximum.');
    const cat = await postForm(
      admin,
      '/admin/categories',
      { name: 'c'.repeat(81) },
      { from: '/admin/categories/new' },
    );
    expect(cat.status).toBe(422);
    expect(fieldError(cat.text, 'name')).toBe('80 caractères au maximum.');
    const account = await postForm(emp, '/account', { name: 'n'.repeat(121), locale: 'fr' });
    expect(account.status).toBe(422);
    expect(account.text).toContain('120 caractères au maximum.');
    const login = await postForm(newAgent(ctx.app), '/login', {
      email: 'e'.repeat(255),
      password: 'x',
    });
    expect(login.status).toBe(400);
    expect(login.text).toContain('254 caractères au maximum.');
    expect(changedTables(before, await fingerprint(ctx.db))).toEqual([]);
  });

  test('when a login or a reset names an address of 250 characters, then it is counted like any other, not a 500', async () => {
    // rate_limits.key holds 255 characters, prefix included: long keys are hashed.
    const long = `${'a'.repeat(60)}@${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.fr`;
    expect(long.length).toBeGreaterThan(240);
    const login = await postForm(newAgent(ctx.app), '/login', {
      email: long,
      password: 'wrong-password',
    });
    expect(login.status).toBe(401);
    const forgot = await postForm(newAgent(ctx.app), '/password/forgot', { email: long });
    expect(forgot.status).toBe(302);
    const keys = (await ctx.db('rate_limits').pluck('key')) as string[];
    expect(keys.every((k) => k.length <= 255)).toBe(true);
  });

  test('when a search is 10,000 characters long, then the page answers 200 with the search cut, not an error', async () => {
    const res = await tech.get(`/tickets?q=${'imprimante '.repeat(1000)}`);
    expect(res.status).toBe(200);
    expect(leaks(res.text)).toEqual([]);
  });
});

describe('NUL bytes, emoji, right-to-left text and very long lines', () => {
  test('when text fields carry NUL bytes, then they are dropped and the rest is saved as typed', async () => {
    // Arrange
    const title = 'Imprimante\u0000 du\u0000 hall';

    // Act
    const created = await postMultipart(
      emp,
      '/tickets',
      { title, description: 'Bourrage\u0000 papier.' },
      [],
      { from: '/tickets/new' },
    );

    // Assert
    expect(created.status).toBe(302);
    const row = await ctx
      .db('tickets')
      .where({ id: idFrom(created.headers.location) })
      .first();
    expect(row.title).toBe('Imprimante du hall');
    expect(row.description).toBe('Bourrage papier.');
    const id = row.id;
    const reply = await postMultipart(
      emp,
      `/tickets/${id}/replies`,
      { version: await versionOf(emp, id), body: 'Toujours\u0000 bloquée.' },
      [],
      { from: `/tickets/${id}` },
    );
    expect(reply.status).toBe(302);
    const event = await ctx
      .db('ticket_events')
      .where({ ticket_id: id })
      .orderBy('id', 'desc')
      .first();
    expect(JSON.stringify(event)).toContain('Toujours bloquée.');
    const account = await postForm(emp, '/account', { name: 'Camille\u0000 Martin', locale: 'fr' });
    expect(account.status).toBe(302);
    expect((await ctx.db('users').where({ id: employee.id }).first()).name).toBe('Camille Martin');
    const category = await postForm(
      admin,
      '/admin/categories',
      { name: 'Ré\u0000seau' },
      { from: '/admin/categories/new' },
    );
    expect(category.status).toBe(302);
    expect(await ctx.db('categories').where({ name: 'Réseau' }).first()).toBeDefined();
  });

  test('when filters, searches and logins carry NUL bytes, then they answer as without them', async () => {
    for (const [agent, url] of [
      [emp, '/tickets?q=imprimante%00'],
      [tech, '/tickets?q=%00&status=new%00&sort=priority%00'],
      [tech, '/tickets.csv?q=imprimante%00'],
      [admin, '/admin/users?q=%00'],
      [admin, '/admin/outbox?q=a%00b&ticket=1%00'],
    ] as const) {
      const res = await agent.get(url);
      expect(`${url} → ${res.status}`).toBe(`${url} → 200`);
    }
    const csv = await tech.get('/tickets.csv?q=imprimante%00');
    expect(csv.text).toContain('Imprimante bloquée');
    const login = await postForm(newAgent(ctx.app), '/login', {
      email: `${employee.email}\u0000`,
      password: employee.password,
    });
    expect(login.status).toBe(302);
    const forgot = await postForm(newAgent(ctx.app), '/password/forgot', {
      email: 'a\u0000@example.com',
    });
    expect(forgot.status).toBeLessThan(500);
  });

  test('when text is emoji, right-to-left and 10,000-character lines, then it is stored exactly and shown escaped', async () => {
    // Arrange: emoji with skin tone and ZWJ, Arabic and Hebrew, an RTL override, a long line.
    const title = '🔥 Imprimante 💥 👩🏽‍💻 الطابعة لا تعمل ‏שלום‮txt.exe';
    const line = 'ا'.repeat(5000) + '🙂'.repeat(2500);
    const description = `${line}\n${'w'.repeat(10000)}\n<b>fin</b>`;

    // Act
    const created = await postMultipart(emp, '/tickets', { title, description }, [], {
      from: '/tickets/new',
    });

    // Assert
    expect(created.status).toBe(302);
    const id = idFrom(created.headers.location);
    const row = await ctx.db('tickets').where({ id }).first();
    expect(row.title).toBe(title);
    expect(row.description).toBe(description);
    const page = await emp.get(`/tickets/${id}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(escapeHtml(title));
    expect(page.text).toContain('w'.repeat(10000));
    expect(page.text).toContain('&lt;b&gt;fin&lt;/b&gt;');
    const reply = await postMultipart(
      emp,
      `/tickets/${id}/replies`,
      { version: await versionOf(emp, id), body: `${'🙂'.repeat(5000)}\n${'z'.repeat(10000)}` },
      [],
      { from: `/tickets/${id}` },
    );
    expect(reply.status).toBe(302);
    const search = await tech.get(`/tickets?q=${encodeURIComponent('🔥 الطابعة')}`);
    expect(search.status).toBe(200);
    const emails = await ctx.db('notifications').where({ ticket_id: id });
    expect(emails.length).toBeGreaterThan(0);
    for (const e of emails) expect(e.subject).toBe(`[#${id}] ${title}`);
    const csv = await tech.get('/tickets.csv');
    expect(csv.status).toBe(200);
    expect(csv.text).toContain(title);
  });
});
