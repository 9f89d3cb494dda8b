/**
 * First run, in a real browser: the one-time URL from the log → the first admin → two
 * invitations (a technician, an employee) → each invitee sets a password from the email.
 */
import type { Browser } from 'playwright-core';
import type { Locale } from '../../src/config';
import { checkPage, launchChromium, open, submit, writeAuditReport } from './support/browser';
import {
  button,
  expectLoggedIn,
  expectPath,
  expectStatus,
  expectText,
  LOCALES,
  logout,
  submitLogin,
  tr,
} from './support/app';
import { clickEmailLink, linkIn, waitForMail } from './support/mail';
import { startStack, type Stack } from './support/stack';
import { visitorsOf } from './support/suite';

const PASSWORD = 'first-run-password-1';

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  writeAuditReport('first-run');
});

describe.each(LOCALES)('first run (%s)', (locale: Locale) => {
  const t = tr(locale);
  let stack: Stack;
  const visitor = visitorsOf(() => ({ browser, baseUrl: stack.baseUrl }), locale);

  beforeAll(async () => {
    stack = await startStack();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  test('when the admin follows the URL from the log and invites two people, then both choose a password from their email', async () => {
    // The first admin, from the URL printed in the log.
    const admin = await visitor();
    expectStatus(await open(admin.page, stack.setupUrl), 200);
    await checkPage(admin, 'setup');
    await admin.page.locator('#field-name').fill(`Admin ${locale}`);
    await admin.page.locator('#field-email').fill(`admin-${locale}@example.com`);
    await admin.page.locator('#field-password').fill(PASSWORD);
    await admin.page.locator('#field-password_confirm').fill(PASSWORD);
    await submit(admin.page, button(admin.page, t('auth.setup.submit')));
    expectPath(admin.page, '/admin/users');
    await expectText(admin.page, t('auth.setup.done'));

    // The setup link works once only.
    const again = await visitor();
    expectStatus(await open(again.page, stack.setupUrl), 404);

    // Two invitations, in the invitees' language.
    const invitees = [
      { role: 'technician', name: `Tech ${locale}`, email: `tech-${locale}@example.com` },
      { role: 'employee', name: `Employee ${locale}`, email: `employee-${locale}@example.com` },
    ];
    for (const [i, who] of invitees.entries()) {
      await open(admin.page, '/admin/users/new');
      if (i === 0) await checkPage(admin, 'admin-user-new');
      await admin.page.locator('#field-name').fill(who.name);
      await admin.page.locator('#field-email').fill(who.email);
      await admin.page.locator('#field-role').selectOption(who.role);
      await admin.page.locator('#field-locale').selectOption(locale);
      await submit(admin.page, button(admin.page, t('users.create')));
      expectPath(admin.page, '/admin/users');
      await expectText(admin.page, t('users.invite.created', { name: who.name, email: who.email }));
    }
    await checkPage(admin, 'admin-users');

    // Each invitee follows the email's link, chooses a password, and is in.
    for (const who of invitees) {
      const mail = await waitForMail(stack.smtp, who.email);
      expect(mail.parsed.subject).toBe(t('emails.account.invitation.subject'));
      expect(mail.parsed.text).toContain(t('emails.account.invitation.intro'));
      const link = linkIn(mail, `${stack.baseUrl}/password/reset/`);
      const invitee = await visitor();
      expectStatus(await clickEmailLink(invitee, mail, link), 200);
      await expectText(invitee.page, t('auth.reset.invite_title'));
      await checkPage(invitee, who.role === 'employee' ? 'invitation' : undefined);
      await invitee.page.locator('#field-password').fill(PASSWORD);
      await invitee.page.locator('#field-password_confirm').fill(PASSWORD);
      await submit(invitee.page, button(invitee.page, t('auth.reset.invite_submit')));
      expectPath(invitee.page, '/tickets');
      await expectText(invitee.page, t('auth.reset.welcome'));
      await checkPage(invitee);

      // The password works for the next login; the link does not work twice.
      await logout(invitee);
      await checkPage(invitee, who.role === 'employee' ? 'login' : undefined);
      await submitLogin(invitee, who.email, PASSWORD);
      await expectLoggedIn(invitee);
      expectStatus(await open(invitee.page, link), 410);
      await checkPage(invitee);
    }

    // The admin's list no longer shows pending invitations.
    await open(admin.page, '/admin/users');
    const pending = await admin.page.getByText(t('users.invite.pending_badge'), { exact: true });
    expect(await pending.count()).toBe(0);
  });
});
