import { createTestContext, type TestContext } from '../support/app';
import {
  loginAs,
  newAgent,
  postMultipart,
  versionOf,
  type Agent,
  type UploadFile,
} from '../support/agent';
import { createUser, type TestUser } from '../support/factories';
import { fieldError, filesUnder, selectedOption } from '../support/uploads';

let ctx: TestContext;
let employee: TestUser;
let technician: TestUser;
let emp: Agent;
let tech: Agent;
let categoryId: number;
let inactiveCategoryId: number;

const idFrom = (location: string) => Number(/\/tickets\/(\d+)/.exec(location)![1]);

beforeAll(async () => {
  ctx = await createTestContext();
  employee = await createUser(ctx.db);
  technician = await createUser(ctx.db, { role: 'technician' });
  const rows = await ctx
    .db('categories')
    .insert([
      { name: 'Messagerie', position: 1 },
      { name: 'Fax (ancien)', position: 2, active: false },
    ])
    .returning('id');
  [categoryId, inactiveCategoryId] = rows.map((r) => Number(r.id));
  emp = newAgent(ctx.app);
  tech = newAgent(ctx.app);
  await loginAs(emp, employee);
  await loginAs(tech, technician);
});
afterAll(() => ctx.close());

function create(agent: Agent, fields: Record<string, string>, files: UploadFile[] = []) {
  return postMultipart(agent, '/tickets', fields, files, { from: '/tickets/new' });
}

const ticketsTitled = async (title: string) =>
  Number((await ctx.db('tickets').where({ title }).count({ n: '*' }).first())!.n);

describe('filing a ticket with mistakes', () => {
  test('when title and description are empty, then both are flagged with 422, the rest is kept and the files must be chosen again', async () => {
    // Arrange
    const ticketsBefore = Number((await ctx.db('tickets').count({ n: '*' }).first())!.n);
    const filesBefore = filesUnder(ctx.config.uploadDir);

    // Act
    const res = await create(
      emp,
      { title: '  ', description: '', priority: 'high', category_id: String(categoryId) },
      [{ name: 'capture.txt', content: 'erreur\n', type: 'text/plain' }],
    );

    // Assert
    expect(res.status).toBe(422);
    expect(fieldError(res.text, 'title')).toBe('Ce champ est obligatoire.');
    expect(fieldError(res.text, 'description')).toBe('Ce champ est obligatoire.');
    expect(selectedOption(res.text, 'priority')).toBe('high');
    expect(selectedOption(res.text, 'category_id')).toBe(String(categoryId));
    expect(res.text).toContain('les fichiers joints n’ont pas été gardés');
    expect(Number((await ctx.db('tickets').count({ n: '*' }).first())!.n)).toBe(ticketsBefore);
    expect(filesUnder(ctx.config.uploadDir)).toEqual(filesBefore);
  });

  test('when no file was sent with a refused form, then no "choose again" notice is shown', async () => {
    const res = await create(emp, { title: '', description: 'Sans titre', priority: 'normal' });
    expect(res.status).toBe(422);
    expect(res.text).not.toContain('les fichiers joints n’ont pas été gardés');
    expect(res.text).toContain('>Sans titre</textarea>');
  });

  test('when the title has 201 characters, then it is refused with the 200-character message', async () => {
    // Arrange
    const title = 'T'.repeat(201);

    // Act
    const res = await create(emp, { title, description: 'Titre trop long.', priority: 'low' });

    // Assert
    expect(res.status).toBe(422);
    expect(fieldError(res.text, 'title')).toBe('200 caractères au maximum.');
    expect(res.text).toContain('>Titre trop long.</textarea>');
    expect(selectedOption(res.text, 'priority')).toBe('low');
    expect(await ticketsTitled(title)).toBe(0);
  });

  test('when the title has exactly 200 characters, then the ticket is filed', async () => {
    const title = 'T'.repeat(200);
    const res = await create(emp, { title, description: 'Titre au maximum.', priority: 'low' });
    expect(res.status).toBe(302);
    expect(await ticketsTitled(title)).toBe(1);
  });

  test('when the priority is unknown, then it is refused on the priority field', async () => {
    const title = 'Priorité inventée';
    const res = await create(emp, { title, description: 'Très grave.', priority: 'critical' });
    expect(res.status).toBe(422);
    expect(fieldError(res.text, 'priority')).toBe('Choisissez une valeur de la liste.');
    expect(res.text).toContain(`value="${title}"`);
    expect(await ticketsTitled(title)).toBe(0);
  });

  test.each([
    ['a deactivated', () => inactiveCategoryId],
    ['a non-existent', () => 999999],
  ])(
    'when the category is %s one, then it is refused on the category field with the input kept',
    async (_label, category) => {
      // Arrange
      const title = `Catégorie refusée ${category()}`;

      // Act
      const res = await create(emp, {
        title,
        description: 'Le fax ne part plus.',
        priority: 'high',
        category_id: String(category()),
      });

      // Assert
      expect(res.status).toBe(422);
      expect(fieldError(res.text, 'category_id')).toBe('Choisissez une catégorie de la liste.');
      expect(res.text).toContain(`value="${title}"`);
      expect(res.text).toContain('>Le fax ne part plus.</textarea>');
      expect(selectedOption(res.text, 'priority')).toBe('high');
      expect(await ticketsTitled(title)).toBe(0);
    },
  );
});

describe('filing on behalf of someone', () => {
  test('when an employee names a requester, then the answer is 403 and nothing is created', async () => {
    const other = await createUser(ctx.db);
    const title = 'Au nom d’un collègue';
    const res = await create(emp, {
      title,
      description: 'Pour mon voisin.',
      priority: 'normal',
      requester_email: other.email,
    });
    expect(res.status).toBe(403);
    expect(await ticketsTitled(title)).toBe(0);
  });

  test('when a technician files for an employee by email, then the employee is the requester and the technician the author', async () => {
    // Arrange
    const requester = await createUser(ctx.db);

    // Act
    const res = await create(tech, {
      title: 'Appel téléphonique : écran noir',
      description: 'Signalé par téléphone.',
      priority: 'normal',
      requester_email: `  ${requester.email.toUpperCase()} `,
    });

    // Assert
    expect(res.status).toBe(302);
    const row = await ctx
      .db('tickets')
      .where({ id: idFrom(res.headers.location) })
      .first();
    expect(Number(row.requester_id)).toBe(requester.id);
    expect(Number(row.created_by_id)).toBe(technician.id);
  });

  test.each([
    ['an unknown', () => 'personne@example.com'],
    ['a deactivated', async () => (await createUser(ctx.db, { active: false })).email],
  ])(
    'when a technician names %s requester, then it is refused on that field',
    async (_label, email) => {
      const title = `Demandeur refusé ${Math.random()}`;
      const address = await email();
      const res = await create(tech, {
        title,
        description: 'Pour quelqu’un.',
        priority: 'normal',
        requester_email: address,
      });
      expect(res.status).toBe(422);
      expect(fieldError(res.text, 'requester_email')).toBe(
        'Aucun compte actif n’a cette adresse e-mail.',
      );
      expect(res.text).toContain(`value="${address}"`);
      expect(await ticketsTitled(title)).toBe(0);
    },
  );
});

describe('replying with mistakes', () => {
  test('when the reply is empty, then it is refused with 422 and nothing is saved', async () => {
    // Arrange
    const created = await create(emp, {
      title: 'Réponse vide',
      description: 'Test.',
      priority: 'normal',
    });
    const id = idFrom(created.headers.location);
    const before = await ctx.db('tickets').where({ id }).first('version');
    const eventsBefore = await ctx.db('ticket_events').where({ ticket_id: id }).select('id');

    // Act
    const res = await postMultipart(
      emp,
      `/tickets/${id}/replies`,
      { version: await versionOf(emp, id), body: '   ' },
      [{ name: 'piece.txt', content: 'x\n', type: 'text/plain' }],
      { from: `/tickets/${id}` },
    );

    // Assert
    expect(res.status).toBe(422);
    expect(fieldError(res.text, 'body')).toBe('Ce champ est obligatoire.');
    expect(await ctx.db('ticket_events').where({ ticket_id: id }).select('id')).toEqual(
      eventsBefore,
    );
    expect(await ctx.db('tickets').where({ id }).first('version')).toEqual(before);
    expect(await ctx.db('attachments').where({ ticket_id: id })).toEqual([]);
  });
});

describe('messages in English', () => {
  test('when the browser asks for English, then the form errors are in English', async () => {
    // Arrange
    const agent = newAgent(ctx.app).set('Accept-Language', 'en');
    await loginAs(agent, await createUser(ctx.db));

    // Act
    const res = await create(agent, {
      title: '',
      description: 'x'.repeat(20001),
      priority: 'critical',
    });

    // Assert
    expect(res.status).toBe(422);
    expect(fieldError(res.text, 'title')).toBe('This field is required.');
    expect(fieldError(res.text, 'description')).toBe('20000 characters at most.');
    expect(fieldError(res.text, 'priority')).toBe('Choose a value from the list.');
    expect(res.text).toContain('The form has errors.');
  });

  test('when the user chose English, then the form errors are in English without any header', async () => {
    // Arrange
    const agent = newAgent(ctx.app);
    await loginAs(agent, await createUser(ctx.db, { locale: 'en' }));
    const created = await create(agent, {
      title: 'English ticket',
      description: 'Hello.',
      priority: 'normal',
    });
    const id = idFrom(created.headers.location);

    // Act
    const res = await postMultipart(
      agent,
      `/tickets/${id}/replies`,
      { version: await versionOf(agent, id), body: '' },
      [{ name: 'log.txt', content: 'x\n', type: 'text/plain' }],
      { from: `/tickets/${id}` },
    );

    // Assert
    expect(res.status).toBe(422);
    expect(fieldError(res.text, 'body')).toBe('This field is required.');
    expect(res.text).toContain('the attached files were not kept');
  });
});
