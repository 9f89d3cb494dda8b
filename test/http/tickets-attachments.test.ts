import fs from 'node:fs';
import { storedPath } from '../../src/tickets/uploads';
import { createTestContext, type TestContext } from '../support/app';
import { loginAs, newAgent, postMultipart, versionOf, type Agent } from '../support/agent';
import { createUser, type TestUser } from '../support/factories';
import {
  fieldError,
  filesUnder,
  getBinary,
  postRawMultipart,
  sha256,
  TINY_PNG,
} from '../support/uploads';

const idFrom = (location: string) => Number(/\/tickets\/(\d+)/.exec(location)![1]);

interface Session {
  ctx: TestContext;
  employee: TestUser;
  emp: Agent;
  other: Agent;
  tech: Agent;
}

async function openSession(env: Record<string, string> = {}): Promise<Session> {
  const ctx = await createTestContext({ env });
  const employee = await createUser(ctx.db);
  const otherEmployee = await createUser(ctx.db);
  const technician = await createUser(ctx.db, { role: 'technician' });
  const emp = newAgent(ctx.app);
  const other = newAgent(ctx.app);
  const tech = newAgent(ctx.app);
  await loginAs(emp, employee);
  await loginAs(other, otherEmployee);
  await loginAs(tech, technician);
  return { ctx, employee, emp, other, tech };
}

/** Files a ticket through the form and returns its id (the creation must succeed). */
async function fileTicket(
  s: Session,
  files: Parameters<typeof postMultipart>[3] = [],
  title = 'Écran qui clignote',
): Promise<number> {
  const res = await postMultipart(
    s.emp,
    '/tickets',
    { title, description: 'Il clignote depuis la mise à jour.', priority: 'normal' },
    files,
    { from: '/tickets/new' },
  );
  if (res.status !== 302) throw new Error(`ticket not created: ${res.status}`);
  return idFrom(res.headers.location);
}

const attachmentsOf = (ctx: TestContext, ticketId: number) =>
  ctx.db('attachments').where({ ticket_id: ticketId }).orderBy('id');

const countRows = async (ctx: TestContext, table: string, where: Record<string, unknown> = {}) =>
  Number((await ctx.db(table).where(where).count({ n: '*' }).first())!.n);

describe('attachments with the default limits', () => {
  let s: Session;
  beforeAll(async () => {
    s = await openSession();
  });
  afterAll(() => s.ctx.close());

  describe('types', () => {
    test('when a PNG is sent as photo.pdf with a PDF type, then it is stored and served as the PNG it is', async () => {
      // Arrange / Act
      const id = await fileTicket(s, [
        { name: 'photo.pdf', content: TINY_PNG, type: 'application/pdf' },
      ]);

      // Assert: the row carries the sniffed type and the file's real hash.
      const [row] = await attachmentsOf(s.ctx, id);
      expect(row).toMatchObject({ content_type: 'image/png', original_name: 'photo.pdf' });
      expect(Number(row.size_bytes)).toBe(TINY_PNG.length);
      expect(row.sha256).toBe(sha256(TINY_PNG));
      const onDisk = fs.readFileSync(storedPath(s.ctx.config.uploadDir, row.stored_name));
      expect(sha256(onDisk)).toBe(row.sha256);

      const res = await getBinary(s.emp, `/attachments/${row.id}`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('image/png');
      expect(res.headers['content-disposition']).toMatch(/^inline\b/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(Buffer.compare(res.body as Buffer, TINY_PNG)).toBe(0);
    });

    test.each([
      {
        name: 'page.html',
        claimed: 'text/html',
        content: '<!doctype html><html><body><script>alert(1)</script></body></html>',
      },
      { name: 'logo.svg', claimed: 'image/svg+xml', content: '<svg onload=alert(1)>' },
      {
        name: 'dessin.svg',
        claimed: 'image/svg+xml',
        content:
          '<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>',
      },
      { name: 'page2.html', claimed: 'image/svg+xml', content: '<html><script>alert(1)</script>' },
    ])(
      'when $name is claimed as $claimed, then it downloads and is never served as HTML or SVG',
      async ({ name, claimed, content }) => {
        // Arrange
        const id = await fileTicket(s, [{ name, content, type: claimed }]);
        const [row] = await attachmentsOf(s.ctx, id);

        // Act
        const res = await getBinary(s.emp, `/attachments/${row.id}`);

        // Assert
        expect(res.status).toBe(200);
        expect(res.headers['content-disposition']).toMatch(/^attachment\b/);
        expect(res.headers['content-type']).not.toMatch(/html|svg|xml/i);
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(row.content_type).not.toMatch(/html|svg/i);
      },
    );
  });

  describe('file names', () => {
    test('when a name tries to climb out of the folder, then only a clean base name is kept', async () => {
      // Arrange / Act
      const res = await postRawMultipart(
        s.emp,
        '/tickets',
        { title: 'Nom piégé', description: 'Voir la pièce jointe.', priority: 'normal' },
        [{ rawName: '../../etc/passwd', content: 'root:x:0:0\n', type: 'text/plain' }],
        { from: '/tickets/new' },
      );

      // Assert
      expect(res.status).toBe(302);
      const id = idFrom(res.headers.location);
      const [row] = await attachmentsOf(s.ctx, id);
      expect(row.original_name).toBe('passwd');
      expect(row.stored_name).toMatch(/^[0-9a-f]{32}$/);
      expect(filesUnder(s.ctx.config.uploadDir)).toContain(storedPath('', row.stored_name));
      const page = await s.emp.get(`/tickets/${id}`);
      expect(page.text).toContain(`>passwd</a>`);
    });

    test('when a name carries control characters and markup, then they are removed or escaped on the page', async () => {
      // Arrange: a browser escapes CR, LF and quotes as %0D %0A %22; a tab comes raw.
      const rawName = 'rapport%0D%0AX-Injected: 1\t%22<img src=x onerror=alert(1)>.txt';

      // Act
      const res = await postRawMultipart(
        s.emp,
        '/tickets',
        { title: 'Nom avec contrôles', description: 'Voir la pièce jointe.', priority: 'normal' },
        [{ rawName, content: 'contenu\n', type: 'text/plain' }],
        { from: '/tickets/new' },
      );

      // Assert
      expect(res.status).toBe(302);
      const id = idFrom(res.headers.location);
      const [row] = await attachmentsOf(s.ctx, id);
      // eslint-disable-next-line no-control-regex -- looking for control characters is the point
      expect(row.original_name).not.toMatch(/[/\\"\u0000-\u001f\u007f]/);
      expect(row.original_name).toBe('rapportX-Injected: 1<img src=x onerror=alert(1)>.txt');
      const page = await s.emp.get(`/tickets/${id}`);
      expect(page.text).not.toContain('<img src=x onerror=alert(1)>');
      expect(page.text).toContain('&lt;img src=x onerror=alert(1)&gt;.txt');
      const file = await getBinary(s.emp, `/attachments/${row.id}`);
      expect(file.status).toBe(200);
      expect(file.headers['content-disposition']).not.toMatch(/[\r\n]/);
      expect(file.headers['content-type']).toBe('text/plain; charset=utf-8');
    });

    test('when a name has accents, then the ticket page shows them as typed', async () => {
      // Arrange / Act
      const id = await fileTicket(s, [
        { name: 'café-écran.txt', content: 'Écran noir au café.\n', type: 'text/plain' },
      ]);

      // Assert
      const [row] = await attachmentsOf(s.ctx, id);
      expect(row.original_name).toBe('café-écran.txt');
      const page = await s.emp.get(`/tickets/${id}`);
      expect(page.text).toContain('café-écran.txt');
      expect(page.text).not.toContain('\ufffd');
      const file = await getBinary(s.emp, `/attachments/${row.id}`);
      expect(file.headers['content-disposition']).toContain(
        "filename*=UTF-8''caf%C3%A9-%C3%A9cran.txt",
      );
    });
  });

  describe('limits per submission', () => {
    test('when a file is empty, then the form says so with 422 and nothing is saved', async () => {
      // Arrange
      const title = 'Ticket avec fichier vide';
      const before = filesUnder(s.ctx.config.uploadDir);

      // Act
      const res = await postMultipart(
        s.emp,
        '/tickets',
        { title, description: 'Le fichier joint est vide.', priority: 'normal' },
        [
          { name: 'ok.txt', content: 'du texte\n', type: 'text/plain' },
          { name: 'vide.txt', content: Buffer.alloc(0), type: 'text/plain' },
        ],
        { from: '/tickets/new' },
      );

      // Assert
      expect(res.status).toBe(422);
      expect(fieldError(res.text, 'attachments')).toBe('Un des fichiers est vide.');
      expect(res.text).toContain(`value="${title}"`);
      expect(await countRows(s.ctx, 'tickets', { title })).toBe(0);
      expect(filesUnder(s.ctx.config.uploadDir)).toEqual(before);
    });

    test('when more than 10 files are sent at once, then the answer is 413 and nothing is saved', async () => {
      // Arrange
      const title = 'Onze fichiers';
      const before = filesUnder(s.ctx.config.uploadDir);
      const files = Array.from({ length: 11 }, (_, i) => ({
        name: `capture-${i}.txt`,
        content: `capture ${i}\n`,
        type: 'text/plain',
      }));

      // Act
      const res = await postMultipart(
        s.emp,
        '/tickets',
        { title, description: 'Toutes les captures.', priority: 'normal' },
        files,
        { from: '/tickets/new' },
      );

      // Assert
      expect(res.status).toBe(413);
      expect(await countRows(s.ctx, 'tickets', { title })).toBe(0);
      expect(filesUnder(s.ctx.config.uploadDir)).toEqual(before);
      expect(fieldError(res.text, 'attachments')).toBe('Trop de fichiers en une fois.');
      expect(res.text).toContain(`value="${title}"`);
    });
  });

  describe('who may download', () => {
    let ticketId: number;
    let publicFileId: number;
    let noteFileId: number;

    beforeAll(async () => {
      ticketId = await fileTicket(s, [
        { name: 'erreur.txt', content: 'Erreur 0x1b\n', type: 'text/plain' },
      ]);
      const note = await postMultipart(
        s.tech,
        `/tickets/${ticketId}/replies`,
        { version: await versionOf(s.tech, ticketId), body: 'Journal du serveur.', internal: '1' },
        [{ name: 'journal-interne.txt', content: 'secret interne\n', type: 'text/plain' }],
        { from: `/tickets/${ticketId}` },
      );
      if (note.status !== 302) throw new Error(`note not added: ${note.status}`);
      const rows = await attachmentsOf(s.ctx, ticketId);
      publicFileId = rows.find((r) => r.original_name === 'erreur.txt').id;
      noteFileId = rows.find((r) => r.original_name === 'journal-interne.txt').id;
    });

    test('when another employee asks for the file, then the answer is 404', async () => {
      const res = await getBinary(s.other, `/attachments/${publicFileId}`);
      expect(res.status).toBe(404);
      expect((res.body as Buffer).toString()).not.toContain('Erreur 0x1b');
    });

    test('when a technician asks for the file, then it is served', async () => {
      const res = await getBinary(s.tech, `/attachments/${publicFileId}`);
      expect(res.status).toBe(200);
      expect((res.body as Buffer).toString()).toBe('Erreur 0x1b\n');
    });

    test.each(['abc', '1e3', '-1', '99999999999999999999999', '999999999999999'])(
      'when the id is %s, then the answer is 404',
      async (id) => {
        const res = await s.emp.get(`/attachments/${id}`);
        expect(res.status).toBe(404);
      },
    );

    test('when a file belongs to an internal note, then the requester neither sees it nor gets it', async () => {
      // Act
      const page = await s.emp.get(`/tickets/${ticketId}`);
      const res = await getBinary(s.emp, `/attachments/${noteFileId}`);

      // Assert
      expect(page.status).toBe(200);
      expect(page.text).toContain(`/attachments/${publicFileId}"`);
      expect(page.text).not.toContain(`/attachments/${noteFileId}"`);
      expect(page.text).not.toContain('journal-interne.txt');
      expect(res.status).toBe(404);
      expect((res.body as Buffer).toString()).not.toContain('secret interne');
    });

    test('when staff open a file of an internal note, then it is served', async () => {
      const page = await s.tech.get(`/tickets/${ticketId}`);
      const res = await getBinary(s.tech, `/attachments/${noteFileId}`);
      expect(page.text).toContain(`/attachments/${noteFileId}"`);
      expect(res.status).toBe(200);
      expect((res.body as Buffer).toString()).toBe('secret interne\n');
    });
  });
});

describe('attachments with MAX_UPLOAD_MB=1', () => {
  const MB = 1024 * 1024;
  let s: Session;
  beforeAll(async () => {
    s = await openSession({ MAX_UPLOAD_MB: '1' });
  });
  afterAll(() => s.ctx.close());

  test('when a new ticket carries a file over the limit, then the form comes back with 413, the text kept and nothing saved', async () => {
    // Arrange
    const ticketsBefore = await countRows(s.ctx, 'tickets');
    const title = 'Capture trop lourde';
    const description = 'La capture de l’erreur est jointe.';

    // Act
    const res = await postMultipart(
      s.emp,
      '/tickets',
      { title, description, priority: 'high' },
      [{ name: 'capture.bmp', content: Buffer.alloc(Math.round(1.2 * MB), 7) }],
      { from: '/tickets/new' },
    );

    // Assert
    expect(res.status).toBe(413);
    expect(await countRows(s.ctx, 'tickets')).toBe(ticketsBefore);
    expect(await countRows(s.ctx, 'attachments')).toBe(0);
    expect(filesUnder(s.ctx.config.uploadDir)).toEqual([]);
    expect(res.text).toContain('<form method="post" action="/tickets?_csrf=');
    expect(res.text).toContain(`value="${title}"`);
    expect(res.text).toContain(`>${description}</textarea>`);
    expect(fieldError(res.text, 'attachments')).toBe(
      'Un fichier dépasse la taille maximale autorisée. Choisissez un fichier plus petit.',
    );
  });

  test('when a reply carries a file over the limit, then the ticket page comes back with 413, the reply kept and nothing saved', async () => {
    // Arrange
    const id = await fileTicket(s);
    const eventsBefore = await countRows(s.ctx, 'ticket_events', { ticket_id: id });
    const version = await versionOf(s.emp, id);
    const filesBefore = filesUnder(s.ctx.config.uploadDir);

    // Act
    const res = await postMultipart(
      s.emp,
      `/tickets/${id}/replies`,
      { version, body: 'Voici la vidéo du problème.' },
      [{ name: 'video.mp4', content: Buffer.alloc(Math.round(1.2 * MB), 1) }],
      { from: `/tickets/${id}` },
    );

    // Assert
    expect(res.status).toBe(413);
    expect(await countRows(s.ctx, 'ticket_events', { ticket_id: id })).toBe(eventsBefore);
    expect(await countRows(s.ctx, 'attachments', { ticket_id: id })).toBe(0);
    expect(filesUnder(s.ctx.config.uploadDir)).toEqual(filesBefore);
    expect(res.text).toContain('>Voici la vidéo du problème.</textarea>');
    expect(fieldError(res.text, 'attachments')).toBe(
      'Un fichier dépasse la taille maximale autorisée. Choisissez un fichier plus petit.',
    );
  });

  test('when replies add up past 5 × MAX_UPLOAD_MB for the ticket, then the one that exceeds it gets 413', async () => {
    // Arrange: 1,000,000-byte files, each under 1 MiB; the ticket may hold 5 MiB in all.
    const file = (n: number) => ({ name: `log-${n}.bin`, content: Buffer.alloc(1_000_000, n) });
    const id = await fileTicket(s, [file(1), file(2)]);
    const reply = async (body: string, files: ReturnType<typeof file>[]) =>
      postMultipart(
        s.emp,
        `/tickets/${id}/replies`,
        { version: await versionOf(s.emp, id), body },
        files,
        { from: `/tickets/${id}` },
      );
    expect((await reply('Deux journaux de plus.', [file(3), file(4)])).status).toBe(302);
    expect((await reply('Et le dernier.', [file(5)])).status).toBe(302);
    const eventsBefore = await countRows(s.ctx, 'ticket_events', { ticket_id: id });
    const filesBefore = filesUnder(s.ctx.config.uploadDir);

    // Act
    const res = await reply('Un de trop.', [file(6)]);

    // Assert
    expect(res.status).toBe(413);
    expect(fieldError(res.text, 'attachments')).toBe(
      'Les pièces jointes de ce ticket dépasseraient la taille totale autorisée.',
    );
    expect(res.text).toContain('>Un de trop.</textarea>');
    expect(await countRows(s.ctx, 'attachments', { ticket_id: id })).toBe(5);
    expect(await countRows(s.ctx, 'ticket_events', { ticket_id: id })).toBe(eventsBefore);
    expect(filesUnder(s.ctx.config.uploadDir)).toEqual(filesBefore);
  });
});
