import { createTestContext, type TestContext } from '../support/app';
import {
  csrfFrom,
  loginAs,
  newAgent,
  postMultipart,
  versionOf,
  type Agent,
} from '../support/agent';
import { createUser } from '../support/factories';
import { changedTables, fingerprint, leaks } from '../support/hostile';
import { fieldError, filesUnder, getBinary, postRawMultipart, TINY_PNG } from '../support/uploads';

/**
 * Hostile uploads that tickets-attachments.test.ts does not already cover: the same limits on a
 * reply, names built to climb folders or to mislead, files that lie about their type, and
 * multipart bodies that are broken or oversized. Each is a clear 4xx or a safe download, with no
 * row and no file left behind.
 */
let ctx: TestContext;
let emp: Agent;
let tech: Agent;
let ticketId: number;

const MB = 1024 * 1024;

beforeAll(async () => {
  ctx = await createTestContext({ env: { MAX_UPLOAD_MB: '1' } });
  emp = newAgent(ctx.app);
  await loginAs(emp, await createUser(ctx.db));
  tech = newAgent(ctx.app);
  await loginAs(tech, await createUser(ctx.db, { role: 'technician' }));
  const res = await postMultipart(
    emp,
    '/tickets',
    { title: 'Pièces jointes', description: 'Voir les fichiers.' },
    [],
    { from: '/tickets/new' },
  );
  ticketId = Number(/\/tickets\/(\d+)/.exec(res.headers.location)![1]);
});
afterAll(() => ctx.close());

/** Sends a reply with files; the answer, and whether anything at all was kept. */
async function replyWith(files: Parameters<typeof postMultipart>[3]) {
  const before = await fingerprint(ctx.db);
  const filesBefore = filesUnder(ctx.config.uploadDir);
  const res = await postMultipart(
    emp,
    `/tickets/${ticketId}/replies`,
    { version: await versionOf(emp, ticketId), body: 'Ma réponse, gardée.' },
    files,
    { from: `/tickets/${ticketId}` },
  );
  return {
    res,
    changed: changedTables(before, await fingerprint(ctx.db)),
    leftovers: filesUnder(ctx.config.uploadDir).filter((f) => !filesBefore.includes(f)),
  };
}

describe('limits on a reply', () => {
  test.each([
    [
      'a file over MAX_UPLOAD_MB',
      [{ name: 'gros.bin', content: Buffer.alloc(MB + 1, 1) }],
      413,
      'Un fichier dépasse la taille maximale autorisée. Choisissez un fichier plus petit.',
    ],
    [
      'eleven files',
      Array.from({ length: 11 }, (_, i) => ({ name: `f${i}.txt`, content: 'x' })),
      413,
      'Trop de fichiers en une fois.',
    ],
    [
      'an empty file',
      [
        { name: 'ok.txt', content: 'x' },
        { name: 'vide.txt', content: Buffer.alloc(0) },
      ],
      422,
      'Un des fichiers est vide.',
    ],
  ] as const)(
    'when a reply carries %s, then the page says so, the text is kept, and no event, attachment or file remains',
    async (_what, files, status, message) => {
      const { res, changed, leftovers } = await replyWith([...files]);
      expect(res.status).toBe(status);
      expect(fieldError(res.text, 'attachments')).toBe(message);
      expect(res.text).toContain('Ma réponse, gardée.');
      expect(changed).toEqual([]);
      expect(leftovers).toEqual([]);
    },
  );
});

describe('file names', () => {
  test.each([
    ['a Windows path', '..\\..\\windows\\system32\\evil.dll', 'evil.dll'],
    ['a Unix path', '../../../../tmp/x.txt', 'x.txt'],
    ['dots only', '...', 'fichier'],
    ['a hidden-file name', '.htaccess', 'htaccess'],
    ['a right-to-left override', 'facture\u202Efdp.exe', 'facturefdp.exe'],
    ['bidirectional isolates', '\u2066rapport\u2069.txt', 'rapport.txt'],
    ['10,000 characters', `${'n'.repeat(10000)}.txt`, 'n'.repeat(200)],
    ['emoji', '🔥 capture écran.png', '🔥 capture écran.png'],
  ])(
    'when a file name is %s, then it is stored cleaned under a random name',
    async (_what, rawName, kept) => {
      const res = await postRawMultipart(
        emp,
        '/tickets',
        { title: 'Nom hostile', description: 'x' },
        [{ rawName, content: 'contenu\n', type: 'text/plain' }],
        { from: '/tickets/new' },
      );
      expect(res.status).toBe(302);
      const id = Number(/\/tickets\/(\d+)/.exec(res.headers.location)![1]);
      const row = await ctx.db('attachments').where({ ticket_id: id }).first();
      expect(row.original_name).toBe(kept);
      expect(row.stored_name).toMatch(/^[0-9a-f]{32}$/);
      const file = await getBinary(emp, `/attachments/${row.id}`);
      expect(file.status).toBe(200);
      expect(file.headers['content-disposition']).toMatch(/^attachment;/);
    },
  );

  test.each(['..', '/', '../'])(
    'when a file name is %j, which names no file, then the part is not kept as a file',
    async (rawName) => {
      const res = await postRawMultipart(
        emp,
        '/tickets',
        { title: 'Nom vide', description: 'x' },
        [{ rawName, content: 'contenu\n', type: 'text/plain' }],
        { from: '/tickets/new' },
      );
      expect(res.status).toBe(302);
      const id = Number(/\/tickets\/(\d+)/.exec(res.headers.location)![1]);
      const names = await ctx.db('attachments').where({ ticket_id: id }).pluck('original_name');
      expect(names.every((n: string) => n === 'fichier')).toBe(true);
    },
  );

  test('when a file name holds a raw NUL byte, then the malformed body is refused with 400 and nothing is kept', async () => {
    const before = await fingerprint(ctx.db);
    const res = await postRawMultipart(
      emp,
      '/tickets',
      { title: 'NUL', description: 'x' },
      [{ rawName: 'a\u0000b.txt', content: 'x' }],
      { from: '/tickets/new' },
    );
    expect(res.status).toBe(400);
    expect(leaks(res.text)).toEqual([]);
    expect(changedTables(before, await fingerprint(ctx.db))).toEqual([]);
  });
});

describe('types that lie', () => {
  test.each([
    ['capture.png', 'image/png', '<html><body><script>alert(1)</script></body></html>'],
    ['logo.png', 'image/png', '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'],
    [
      'photo.jpg',
      'image/jpeg',
      '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ],
    ['page.txt', 'text/plain', '<!DOCTYPE html><html><script>alert(1)</script></html>'],
  ])(
    'when %s claims %s but holds markup, then it downloads as text or bytes, never as a page',
    async (name, type, content) => {
      const res = await postMultipart(
        emp,
        '/tickets',
        { title: 'Faux type', description: 'x' },
        [{ name, content, type }],
        { from: '/tickets/new' },
      );
      expect(res.status).toBe(302);
      const id = Number(/\/tickets\/(\d+)/.exec(res.headers.location)![1]);
      const row = await ctx.db('attachments').where({ ticket_id: id }).first();
      expect(row.content_type).not.toMatch(/^image\/|html|svg/);
      const file = await getBinary(tech, `/attachments/${row.id}`);
      expect(file.headers['content-disposition']).toMatch(/^attachment;/);
      expect(file.headers['content-type']).toMatch(
        /^(text\/plain; charset=utf-8|application\/octet-stream)$/,
      );
      expect(file.headers['x-content-type-options']).toBe('nosniff');
      expect(file.headers['content-security-policy']).toContain('sandbox');
    },
  );

  test('when a real image carries a script after its header, then it is shown only as that image, sandboxed', async () => {
    const polyglot = Buffer.concat([TINY_PNG, Buffer.from('<script>alert(1)</script>')]);
    const res = await postMultipart(
      emp,
      '/tickets',
      { title: 'Polyglotte', description: 'x' },
      [{ name: 'p.html', content: polyglot, type: 'text/html' }],
      { from: '/tickets/new' },
    );
    const id = Number(/\/tickets\/(\d+)/.exec(res.headers.location)![1]);
    const row = await ctx.db('attachments').where({ ticket_id: id }).first();
    const file = await getBinary(emp, `/attachments/${row.id}`);
    expect(file.headers['content-type']).toBe('image/png');
    expect(file.headers['x-content-type-options']).toBe('nosniff');
    expect(file.headers['content-security-policy']).toBe("default-src 'none'; sandbox");
  });
});

describe('broken and oversized multipart bodies', () => {
  async function raw(contentType: string, body: Buffer | string) {
    const token = await csrfFrom(emp, '/tickets/new');
    return emp.post(`/tickets?_csrf=${token}`).set('Content-Type', contentType).send(body);
  }

  test.each([
    ['no boundary', () => raw('multipart/form-data', 'garbage'), 400],
    [
      'a body cut short',
      () =>
        raw(
          'multipart/form-data; boundary=xyz',
          '--xyz\r\nContent-Disposition: form-data; name="title"\r\n\r\nabc',
        ),
      400,
    ],
    [
      'a malformed part header',
      () =>
        raw(
          'multipart/form-data; boundary=xyz',
          '--xyz\r\nContent-Disposition\r\n\r\nabc\r\n--xyz--\r\n',
        ),
      400,
    ],
    [
      'a hundred fields',
      async () => {
        const token = await csrfFrom(emp, '/tickets/new');
        const req = emp.post(`/tickets?_csrf=${token}`);
        for (let i = 0; i < 100; i++) req.field(`f${i}`, 'x');
        return req;
      },
      400,
    ],
    [
      'a field of 1 MB and more',
      async () => {
        const token = await csrfFrom(emp, '/tickets/new');
        return emp
          .post(`/tickets?_csrf=${token}`)
          .field('title', 'x')
          .field('description', 'y'.repeat(MB + 10));
      },
      413,
    ],
    [
      'a file in an unexpected field',
      async () => {
        const token = await csrfFrom(emp, '/tickets/new');
        return emp
          .post(`/tickets?_csrf=${token}`)
          .field('title', 'x')
          .field('description', 'y')
          .attach('autre', Buffer.from('x'), 'a.txt');
      },
      413,
    ],
  ] as const)(
    'when a form is sent with %s, then it is refused with a clear 4xx and nothing is kept',
    async (_what, send, status) => {
      const before = await fingerprint(ctx.db);
      const filesBefore = filesUnder(ctx.config.uploadDir);
      const res = await send();
      expect(res.status).toBe(status);
      expect(leaks(res.text)).toEqual([]);
      expect(changedTables(before, await fingerprint(ctx.db))).toEqual([]);
      // Files of an aborted upload are removed right after the answer.
      await new Promise((r) => setTimeout(r, 100));
      expect(filesUnder(ctx.config.uploadDir)).toEqual(filesBefore);
    },
  );
});
