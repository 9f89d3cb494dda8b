/**
 * The journey of DESIGN.md §1, in a real browser, following the links of the emails received:
 * an employee files a ticket → the technicians get an email → a logged-out technician follows
 * it, logs in, lands on the ticket, takes it and replies → the employee follows the email,
 * answers → the technician resolves → the employee confirms → closed. In French and English,
 * with JavaScript on and off.
 */
import type { Locale } from '../../src/config';
import type { TestUser } from '../support/factories';
import { checkPage, navigation, open, submit } from './support/browser';
import {
  button,
  category,
  expectPath,
  expectStatus,
  expectText,
  login,
  person,
  submitLogin,
  textOf,
  ticketIdOf,
  tr,
} from './support/app';
import { clickEmailLink, linkIn, subjectHas, waitForMail } from './support/mail';
import { browserSuite, visitorsOf } from './support/suite';

const suite = browserSuite('journey');

const CASES: [Locale, boolean][] = [
  ['fr', true],
  ['en', true],
  ['fr', false],
  ['en', false],
];

describe.each(CASES)('journey (%s, JavaScript on: %s)', (locale, javaScript) => {
  const t = tr(locale);
  /** Screenshots once per language, from the run with JavaScript. */
  const shot = (name: string) => (javaScript ? name : undefined);
  let employee: TestUser;
  let tech: TestUser;
  let categoryName: string;

  const visitor = visitorsOf(
    () => ({ browser: suite.browser, baseUrl: suite.stack.baseUrl }),
    locale,
    { javaScript },
  );

  beforeAll(async () => {
    employee = await person(suite.stack.db, 'employee', locale);
    tech = await person(suite.stack.db, 'technician', locale);
    categoryName = `${t('tickets.fields.category')} ${locale}-${javaScript ? 'js' : 'nojs'}`;
    await category(suite.stack.db, categoryName);
  });

  test('when an employee files a ticket, then it goes to resolved and closed through the emails', async () => {
    const title = `${t('tickets.status.new')} printer ${locale} ${javaScript ? 'js' : 'nojs'}`;
    const description = `Line one\nLine two «${locale}»`;

    // The employee files a ticket with an attachment.
    const emp = await visitor();
    await login(emp, employee.email, employee.password);
    expectPath(emp.page, '/tickets');
    await checkPage(emp, shot('tickets-mine-empty'));
    await navigation(emp.page, () =>
      emp.page.getByRole('link', { name: t('tickets.new.title'), exact: true }).click(),
    );
    expectPath(emp.page, '/tickets/new');
    await checkPage(emp, shot('ticket-new'));
    await emp.page.locator('#field-title').fill(title);
    await emp.page.locator('#field-description').fill(description);
    await emp.page.locator('#field-category_id').selectOption({ label: categoryName });
    await emp.page.locator('#field-priority').selectOption('high');
    await emp.page.locator('#field-attachments').setInputFiles({
      name: 'error.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('Printer says: PC LOAD LETTER\n'),
    });
    await submit(emp.page, button(emp.page, t('tickets.new.submit')));
    const id = ticketIdOf(emp.page);
    await expectText(emp.page, t('tickets.flash.created', { id }));
    await expectText(emp.page, 'error.txt');
    await checkPage(emp, shot('ticket-employee-new'));

    // The requester's acknowledgement, and the technicians' email.
    const subject = `[#${id}] ${title}`;
    const ack = await waitForMail(suite.stack.smtp, employee.email, subjectHas(`[#${id}]`));
    expect(ack.parsed.subject).toBe(subject);
    expect(ack.parsed.text).toContain(t('emails.ticket.ticket_acknowledged.intro', { id }));
    const created = await waitForMail(suite.stack.smtp, tech.email, subjectHas(`[#${id}]`));
    expect(created.parsed.subject).toBe(subject);
    expect(created.parsed.text).toContain(
      t('emails.ticket.ticket_created.intro', { who: employee.name }),
    );
    const ticketUrl = `${suite.stack.baseUrl}/tickets/${id}`;
    expect(linkIn(created, `${suite.stack.baseUrl}/tickets/`)).toBe(ticketUrl);

    // The technician is logged out: the link goes through the login page to the ticket.
    const tec = await visitor();
    await clickEmailLink(tec, created, ticketUrl);
    expectPath(tec.page, `/login?returnTo=${encodeURIComponent(`/tickets/${id}`)}`);
    await checkPage(tec);
    await submitLogin(tec, tech.email, tech.password);
    expectPath(tec.page, `/tickets/${id}`);
    await checkPage(tec, shot('ticket-staff-new'));

    // The technician takes it and asks a question, which sets "waiting".
    await submit(tec.page, button(tec.page, t('tickets.show.take')));
    await expectText(tec.page, t('tickets.flash.taken', { id }));
    const question = `Which tray? (${locale})`;
    await tec.page.locator('#field-body').fill(question);
    await tec.page.locator('#field-reply-status').selectOption('waiting');
    await submit(tec.page, button(tec.page, t('tickets.reply.submit_staff')));
    expectPath(tec.page, `/tickets/${id}`);
    await expectText(tec.page, t('tickets.flash.reply_added'));
    await checkPage(tec);

    // The employee reads the reply from the email, and answers.
    const replied = await waitForMail(suite.stack.smtp, employee.email, subjectHas(`[#${id}]`));
    expect(replied.parsed.text).toContain(
      t('emails.ticket.reply_to_requester.intro', { who: tech.name }),
    );
    expect(replied.parsed.text).toContain(question);
    await clickEmailLink(emp, replied, linkIn(replied, `${suite.stack.baseUrl}/tickets/`));
    expectPath(emp.page, `/tickets/${id}`);
    await expectText(emp.page, question);
    await expectText(emp.page, t('tickets.status.waiting'), '.ticket-meta');
    await checkPage(emp);
    const answer = `The second tray (${locale})`;
    await emp.page.locator('#field-body').fill(answer);
    await submit(emp.page, button(emp.page, t('tickets.reply.submit')));
    await expectText(emp.page, t('tickets.flash.reply_added'));
    await expectText(emp.page, t('tickets.status.in_progress'), '.ticket-meta');

    // The technician reads the answer from the email and resolves the ticket.
    const answered = await waitForMail(suite.stack.smtp, tech.email, subjectHas(`[#${id}]`));
    expect(answered.parsed.text).toContain(
      t('emails.ticket.reply_to_staff.intro', { who: employee.name }),
    );
    await clickEmailLink(tec, answered, linkIn(answered, `${suite.stack.baseUrl}/tickets/`));
    expectPath(tec.page, `/tickets/${id}`);
    await expectText(tec.page, answer);
    await tec.page.locator('#field-status').selectOption('resolved');
    await submit(tec.page, button(tec.page, t('common.actions.save')));
    await expectText(tec.page, t('tickets.flash.updated'));
    await checkPage(tec, shot('ticket-staff'));

    // The employee confirms the fix from the email: the ticket is closed.
    const resolved = await waitForMail(suite.stack.smtp, employee.email, subjectHas(`[#${id}]`));
    expect(resolved.parsed.text).toContain(
      t('emails.ticket.status_changed.intro', { status: t('tickets.status.resolved') }),
    );
    await clickEmailLink(emp, resolved, linkIn(resolved, `${suite.stack.baseUrl}/tickets/`));
    await expectText(emp.page, t('tickets.confirm.title'));
    await checkPage(emp, shot('ticket-employee-resolved'));
    await submit(emp.page, button(emp.page, t('tickets.confirm.fixed')));
    await expectText(emp.page, t('tickets.flash.confirmed'));
    expect(await textOf(emp.page.locator('.ticket-meta .badge').first())).toBe(
      t('tickets.status.closed'),
    );
    await checkPage(emp);

    // Both lists show the closed ticket.
    await open(emp.page, '/tickets');
    await expectText(emp.page, title);
    await checkPage(emp, shot('tickets-mine'));
    await open(tec.page, '/tickets');
    await expectText(tec.page, title);
    await checkPage(tec, shot('queue'));
    await open(tec.page, '/account');
    await checkPage(tec, shot('account'));
  });

  test('when the admin looks around, then every admin page passes', async () => {
    const admin = await person(suite.stack.db, 'admin', locale);
    const adm = await visitor();
    await login(adm, admin.email, admin.password);
    const pages: [string, string][] = [
      ['/admin/users', 'admin-users-list'],
      ['/admin/categories', 'admin-categories'],
      ['/admin/categories/new', 'admin-category-new'],
      ['/admin/outbox', 'admin-outbox'],
      ['/account', 'account-admin'],
      ['/tickets/new', 'ticket-new-staff'],
    ];
    for (const [path, name] of pages) {
      expectStatus(await open(adm.page, path), 200);
      await checkPage(adm, shot(name));
    }
    // One email of the outbox, and the edit page of an account.
    await open(adm.page, '/admin/outbox');
    const first = adm.page.locator('main table a[href^="/admin/outbox/"]').first();
    if (await first.count()) {
      await navigation(adm.page, () => first.click());
      await checkPage(adm, shot('admin-outbox-email'));
    }
    await open(adm.page, `/admin/users/${employee.id}`);
    await checkPage(adm, shot('admin-user-edit'));
    // The dashboard, once it exists.
    const dashboard = await open(adm.page, '/dashboard');
    if (dashboard.status() !== 404) {
      expectStatus(dashboard, 200);
      await checkPage(adm, shot('dashboard'));
    }
  });
});
