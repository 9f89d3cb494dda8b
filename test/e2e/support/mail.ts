/** Reading what Guichet sent to the test SMTP server, and following its links in the browser. */
import type { Response } from 'playwright-core';
import type { ReceivedMail, TestSmtpServer } from '../../support/smtp';
import { navigation, type Visitor } from './browser';

/** Emails already returned by waitForMail. */
const taken = new WeakSet<ReceivedMail>();

/**
 * Waits for the first email to `to` that `match` accepts and that no earlier call returned
 * (each email is used once, so a journey reads its emails in order).
 */
export async function waitForMail(
  smtp: TestSmtpServer,
  to: string,
  match: (m: ReceivedMail) => boolean = () => true,
  timeoutMs = 15000,
): Promise<ReceivedMail> {
  const pick = () => smtp.to(to).find((m) => !taken.has(m) && match(m));
  await smtp.waitFor(() => pick() !== undefined, timeoutMs);
  const mail = pick()!;
  taken.add(mail);
  return mail;
}

export const subjectHas = (text: string) => (m: ReceivedMail) =>
  (m.parsed.subject ?? '').includes(text);

/** The first link of the text part that starts with `prefix` (APP_URL/tickets/…). */
export function linkIn(mail: ReceivedMail, prefix: string): string {
  const text = mail.parsed.text ?? '';
  const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const found = new RegExp(`${escaped}[^\\s<>"]*`).exec(text)?.[0];
  if (!found)
    throw new Error(`no link starting with ${prefix} in «${mail.parsed.subject}»:\n${text}`);
  return found;
}

/**
 * Opens the HTML part in the visitor's browser and clicks its button to `href`, as a reader
 * of the email would: the browser then leaves the email for Guichet.
 */
export async function clickEmailLink(
  visitor: Visitor,
  mail: ReceivedMail,
  href: string,
): Promise<Response> {
  const html = mail.parsed.html;
  if (!html) throw new Error(`«${mail.parsed.subject}» has no HTML part`);
  // Out of Guichet's origin first: its CSP would apply to the email (inline styles) otherwise.
  await visitor.page.goto('about:blank');
  await visitor.page.setContent(html);
  const link = visitor.page.locator(`a[href="${href}"]`).first();
  return navigation(visitor.page, () => link.click());
}
