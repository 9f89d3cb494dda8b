/** Password reset from the email's link, and a deactivated account that can no longer log in. */
import type { Locale } from '../../src/config';
import { checkPage, navigation, open, submit } from './support/browser';
import {
  button,
  expectPath,
  expectStatus,
  expectLoggedIn,
  expectText,
  LOCALES,
  login,
  logout,
  person,
  submitLogin,
  tr,
} from './support/app';
import { clickEmailLink, linkIn, waitForMail } from './support/mail';
import { browserSuite, visitorsOf } from './support/suite';

const suite = browserSuite('accounts');

describe.each(LOCALES)('accounts (%s)', (locale: Locale) => {
  const t = tr(locale);
  const visitor = visitorsOf(
    () => ({ browser: suite.browser, baseUrl: suite.stack.baseUrl }),
    locale,
  );

  test('when a user forgot the password, then the link in the email sets a new one', async () => {
    const user = await person(suite.stack.db, 'employee', locale);
    const newPassword = `new-password-${locale}-42`;
    const v = await visitor();
    await open(v.page, '/login');
    await navigation(v.page, () =>
      v.page.getByRole('link', { name: t('auth.forgot.link'), exact: true }).click(),
    );
    expectPath(v.page, '/password/forgot');
    await checkPage(v, 'password-forgot');
    await v.page.locator('#field-email').fill(user.email);
    await submit(v.page, button(v.page, t('auth.forgot.submit')));
    await expectText(v.page, t('auth.forgot.sent'));

    const mail = await waitForMail(suite.stack.smtp, user.email);
    expect(mail.parsed.subject).toBe(t('emails.account.password_reset.subject'));
    const link = linkIn(mail, `${suite.stack.baseUrl}/password/reset/`);
    expectStatus(await clickEmailLink(v, mail, link), 200);
    await expectText(v.page, t('auth.reset.title'));
    await checkPage(v, 'password-reset');
    await v.page.locator('#field-password').fill(newPassword);
    await v.page.locator('#field-password_confirm').fill(newPassword);
    await submit(v.page, button(v.page, t('auth.reset.submit')));
    expectPath(v.page, '/tickets');
    await expectText(v.page, t('auth.reset.done'));

    // The old password no longer works, the new one does, and the link is spent.
    await logout(v);
    expectStatus(await submitLogin(v, user.email, user.password), 401);
    await expectText(v.page, t('auth.login.invalid'));
    await checkPage(v, 'login-error');
    await submitLogin(v, user.email, newPassword);
    expectPath(v.page, '/tickets');
    expectStatus(await open(v.page, link), 410);
    await expectText(v.page, t('auth.reset.expired_title'));
    await checkPage(v, 'link-expired');
  });

  test('when an admin deactivates an account, then its owner is logged out and cannot log in', async () => {
    const admin = await person(suite.stack.db, 'admin', locale);
    const user = await person(suite.stack.db, 'technician', locale);
    const owner = await visitor();
    await login(owner, user.email, user.password);
    await expectLoggedIn(owner);

    const adm = await visitor();
    await login(adm, admin.email, admin.password);
    await open(adm.page, `/admin/users/${user.id}`);
    await adm.page.locator('#field-active').uncheck();
    await submit(adm.page, button(adm.page, t('common.actions.save')));
    expectPath(adm.page, '/admin/users');
    await expectText(adm.page, t('users.inactive'));

    // The open session is gone, and the password no longer opens one.
    await open(owner.page, '/tickets');
    expectPath(owner.page, '/login?returnTo=%2Ftickets');
    expectStatus(await submitLogin(owner, user.email, user.password), 401);
    await expectText(owner.page, t('auth.login.invalid'));
    await checkPage(owner);
  });
});
