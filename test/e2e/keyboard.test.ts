/**
 * The create and reply forms with the keyboard only: Tab reaches every control in reading
 * order, each one shows where the focus is and has a label, and Enter submits.
 */
import type { Page } from 'playwright-core';
import type { Locale } from '../../src/config';
import type { TestUser } from '../support/factories';
import { checkPage, navigation, open } from './support/browser';
import {
  category,
  expectPath,
  expectText,
  LOCALES,
  login,
  person,
  ticketIdOf,
  tr,
} from './support/app';
import { browserSuite, visitorsOf } from './support/suite';

const suite = browserSuite('keyboard');

interface Focused {
  /** The element's id, or its tag and text for those without one. */
  key: string;
  label: string;
  /** A focus ring: an outline or a box-shadow drawn only while focused. */
  ring: boolean;
  inViewport: boolean;
}

/** What has the focus now, as a keyboard user perceives it. */
async function focused(page: Page): Promise<Focused> {
  return (await page.evaluate(`(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) ||
      style.boxShadow !== 'none';
    const label = (el.labels && el.labels[0] ? el.labels[0].textContent :
      el.getAttribute('aria-label') || el.textContent || '').replace(/\\s+/g, ' ').trim();
    const r = el.getBoundingClientRect();
    return {
      key: el.id || (el.tagName.toLowerCase() + ':' + (el.textContent || '').trim()),
      label,
      ring,
      inViewport: r.bottom > 0 && r.top < innerHeight && r.width > 0,
    };
  })()`)) as Focused;
}

/**
 * Presses Tab until `until` has the focus, calling `onFocus` at each stop; fails if the focus
 * never gets there, or stops on something without a focus ring or a name.
 */
async function tabTo(page: Page, until: string, onFocus: (f: Focused) => Promise<void>) {
  const order: string[] = [];
  for (let i = 0; i < 80; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    order.push(f.key);
    if (!f.ring) throw new Error(`${page.url()}: no visible focus on ${f.key}`);
    if (!f.label) throw new Error(`${page.url()}: ${f.key} has no label or name`);
    if (!f.inViewport) throw new Error(`${page.url()}: ${f.key} has the focus off screen`);
    await onFocus(f);
    if (f.key === until) return order;
  }
  throw new Error(`${page.url()}: Tab never reached ${until}; order: ${order.join(' → ')}`);
}

/** `expected` appears in `order`, in that sequence, with nothing else of the form between. */
function expectSequence(order: string[], expected: string[]): void {
  const start = order.indexOf(expected[0]);
  expect(order.slice(start, start + expected.length)).toEqual(expected);
}

describe.each(LOCALES)('keyboard only (%s)', (locale: Locale) => {
  const t = tr(locale);
  let employee: TestUser;
  let tech: TestUser;
  let categoryName: string;

  const visitor = visitorsOf(
    () => ({ browser: suite.browser, baseUrl: suite.stack.baseUrl }),
    locale,
  );

  beforeAll(async () => {
    employee = await person(suite.stack.db, 'employee', locale);
    tech = await person(suite.stack.db, 'technician', locale);
    categoryName = `Keyboard ${locale}`;
    await category(suite.stack.db, categoryName);
  });

  test('when an employee files a ticket and a technician replies with the keyboard, then both forms work', async () => {
    const emp = await visitor();
    await login(emp, employee.email, employee.password);
    await open(emp.page, '/tickets/new');

    // The skip link comes first and moves the focus to the content.
    await emp.page.keyboard.press('Tab');
    const skip = await focused(emp.page);
    expect(skip.label).toBe(t('common.skip_to_content'));
    expect(skip.inViewport).toBe(true);
    await emp.page.keyboard.press('Enter');
    expect((await focused(emp.page)).key).toBe('main');

    const title = `Keyboard ticket (${locale})`;
    const submitKey = `button:${t('tickets.new.submit')}`;
    const order = await tabTo(emp.page, submitKey, async (f) => {
      if (f.key === 'field-title') await emp.page.keyboard.type(title);
      if (f.key === 'field-description') await emp.page.keyboard.type('Typed with the keyboard.');
      if (f.key === 'field-category_id' || f.key === 'field-priority') {
        await emp.page.keyboard.press('ArrowDown');
      }
    });
    expectSequence(order, [
      'field-title',
      'field-description',
      'field-category_id',
      'field-priority',
      'field-attachments',
      submitKey,
    ]);
    expect(await emp.page.locator('#field-category_id option:checked').textContent()).toBe(
      categoryName,
    );
    expect(await emp.page.locator('#field-priority').inputValue()).toBe('high');
    await navigation(emp.page, () => emp.page.keyboard.press('Enter'));
    const id = ticketIdOf(emp.page);
    await expectText(emp.page, t('tickets.flash.created', { id }));
    await expectText(emp.page, title, 'h1');

    // The technician's reply form: message, internal note, status, files, send.
    const tec = await visitor();
    await login(tec, tech.email, tech.password);
    await open(tec.page, `/tickets/${id}`);
    const reply = `Answered with the keyboard (${locale})`;
    const sendKey = `button:${t('tickets.reply.submit_staff')}`;
    const replyOrder = await tabTo(tec.page, sendKey, async (f) => {
      if (f.key === 'field-body') await tec.page.keyboard.type(reply);
      if (f.key === 'field-reply-status') await tec.page.keyboard.press('ArrowDown');
    });
    expectSequence(replyOrder, [
      'field-body',
      'field-internal',
      'field-reply-status',
      'field-attachments',
      sendKey,
    ]);
    await navigation(tec.page, () => tec.page.keyboard.press('Enter'));
    expectPath(tec.page, `/tickets/${id}`);
    await expectText(tec.page, t('tickets.flash.reply_added'));
    await expectText(tec.page, reply, '.timeline');
    await checkPage(tec);
  });
});
