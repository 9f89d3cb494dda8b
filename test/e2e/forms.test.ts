/**
 * What a user sees when a form is refused: the message next to the field with the input kept
 * (an empty title, a file over MAX_UPLOAD_MB, an empty reply), and the conflict page when two
 * people change the same ticket, with the text of the late one kept.
 */
import type { Page } from 'playwright-core';
import type { Locale } from '../../src/config';
import type { TestUser } from '../support/factories';
import { checkPage, open, submit, type Visitor } from './support/browser';
import {
  button,
  expectPath,
  expectStatus,
  expectText,
  LOCALES,
  login,
  person,
  textOf,
  ticketIdOf,
  tr,
} from './support/app';
import { browserSuite, visitorsOf } from './support/suite';

// 1 MB per file, so that "too big" needs only a small upload.
const suite = browserSuite('forms', { MAX_UPLOAD_MB: '1' });

/** The field's own message: inside its `.field`, announced through aria-describedby. */
async function fieldError(page: Page, id: string): Promise<string> {
  const input = page.locator(`#${id}`);
  const error = page.locator(`.field:has(#${id}) .field__error`);
  if ((await error.count()) !== 1) throw new Error(`${page.url()}: no message next to #${id}`);
  const described = (await input.getAttribute('aria-describedby')) ?? '';
  const errorId = await error.getAttribute('id');
  if (!errorId || !described.split(' ').includes(errorId)) {
    throw new Error(`#${id} is not described by its message (aria-describedby="${described}")`);
  }
  return textOf(error);
}

describe.each(LOCALES)('forms (%s)', (locale: Locale) => {
  const t = tr(locale);
  let employee: TestUser;
  let tech: TestUser;

  const visitor = visitorsOf(
    () => ({ browser: suite.browser, baseUrl: suite.stack.baseUrl }),
    locale,
  );

  beforeAll(async () => {
    employee = await person(suite.stack.db, 'employee', locale);
    tech = await person(suite.stack.db, 'technician', locale);
  });

  test('when the title is empty, then the message is next to it and the description is kept', async () => {
    const emp = await visitor();
    await login(emp, employee.email, employee.password);
    await open(emp.page, '/tickets/new');
    const description = `Kept text\nwith two lines (${locale})`;
    await emp.page.locator('#field-description').fill(description);
    await emp.page.locator('#field-priority').selectOption('urgent');
    const response = await submit(emp.page, button(emp.page, t('tickets.new.submit')));

    expectStatus(response, 422);
    expect(await fieldError(emp.page, 'field-title')).toBe(t('validation.required'));
    expect(await emp.page.locator('#field-title').getAttribute('aria-invalid')).toBe('true');
    expect(await emp.page.locator('#field-description').inputValue()).toBe(description);
    expect(await emp.page.locator('#field-priority').inputValue()).toBe('urgent');
    await expectText(emp.page, t('validation.summary'), '.error-summary');
    await checkPage(emp, 'ticket-new-errors');
  });

  test('when a file is too big, then the message is next to the file field and the text is kept', async () => {
    const emp = await visitor();
    await login(emp, employee.email, employee.password);
    await open(emp.page, '/tickets/new');
    const title = `Too big (${locale})`;
    await emp.page.locator('#field-title').fill(title);
    await emp.page.locator('#field-description').fill('See the attached dump.');
    await emp.page.locator('#field-attachments').setInputFiles({
      name: 'dump.bin',
      mimeType: 'application/octet-stream',
      buffer: Buffer.alloc(1024 * 1024 + 512 * 1024, 7),
    });
    const response = await submit(emp.page, button(emp.page, t('tickets.new.submit')));

    expectStatus(response, 413);
    expect(await fieldError(emp.page, 'field-attachments')).toBe(t('uploads.errors.too_large'));
    expect(await emp.page.locator('#field-title').inputValue()).toBe(title);
    expect(await emp.page.locator('#field-description').inputValue()).toBe(
      'See the attached dump.',
    );
    await expectText(emp.page, t('uploads.choose_again'), '.field:has(#field-attachments)');
    await checkPage(emp);
    // Nothing was filed.
    await open(emp.page, '/tickets');
    expect(await emp.page.getByText(title).count()).toBe(0);
  });

  test('when a reply is empty, then the message is next to it and the chosen status is kept', async () => {
    const emp = await visitor();
    await login(emp, employee.email, employee.password);
    const id = await fileTicket(emp, `Reply form (${locale})`);
    const tec = await visitor();
    await login(tec, tech.email, tech.password);
    await open(tec.page, `/tickets/${id}`);
    await tec.page.locator('#field-reply-status').selectOption('waiting');
    const response = await submit(tec.page, button(tec.page, t('tickets.reply.submit_staff')));

    expectStatus(response, 422);
    expect(await fieldError(tec.page, 'field-body')).toBe(t('validation.required'));
    expect(await tec.page.locator('#field-reply-status').inputValue()).toBe('waiting');
    await checkPage(tec, 'ticket-reply-errors');
  });

  test('when two technicians change a ticket at once, then the late one sees the conflict page with the text kept', async () => {
    const emp = await visitor();
    await login(emp, employee.email, employee.password);
    const id = await fileTicket(emp, `Conflict (${locale})`);
    const other = await person(suite.stack.db, 'technician', locale);
    const [first, late] = [await visitor(), await visitor()];
    await login(first, tech.email, tech.password);
    await login(late, other.email, other.password);
    await open(first.page, `/tickets/${id}`);
    await open(late.page, `/tickets/${id}`);

    // The first one changes the priority while the other is typing.
    await first.page.locator('#field-priority').selectOption('urgent');
    await submit(first.page, button(first.page, t('common.actions.save')));
    await expectText(first.page, t('tickets.flash.updated'));
    const text = `My long answer, typed while the ticket changed (${locale})`;
    await late.page.locator('#field-body').fill(text);
    const response = await submit(late.page, button(late.page, t('tickets.reply.submit_staff')));

    expectStatus(response, 409);
    await expectText(late.page, t('tickets.conflict.title'));
    await expectText(late.page, t('tickets.priority.urgent'), '.timeline');
    expect(await late.page.locator('#field-body').inputValue()).toBe(text);
    await checkPage(late, 'conflict');

    // Sending the kept text now goes through.
    await submit(late.page, button(late.page, t('tickets.conflict.send_anyway')));
    expectPath(late.page, `/tickets/${id}`);
    await expectText(late.page, t('tickets.flash.reply_added'));
    await expectText(late.page, text, '.timeline');
  });
});

async function fileTicket(v: Visitor, title: string): Promise<number> {
  const t = tr(v.locale);
  await open(v.page, '/tickets/new');
  await v.page.locator('#field-title').fill(title);
  await v.page.locator('#field-description').fill('Something is broken.');
  await submit(v.page, button(v.page, t('tickets.new.submit')));
  return ticketIdOf(v.page);
}
