import crypto from 'node:crypto';
import path from 'node:path';
import type { Config, Locale } from '../config';
import { translator } from '../i18n';
import type { Logger } from '../logger';
import { describeError, type Mailer } from '../notifications/mailer';
import { renderEmail } from '../notifications/outbox';
import { PROJECT_ROOT } from '../paths';

export interface SmtpHint {
  /** An i18n key under outbox.test.hints. */
  key: string;
  params: Record<string, string | number>;
}

export type TestEmailResult =
  { ok: true; response: string } | { ok: false; error: string; hint: SmtpHint | null };

const REFUSED = ['ECONNREFUSED'];
const AUTH = ['EAUTH', 'ENOAUTH'];
const DNS = ['EDNS', 'ENOTFOUND', 'EAI_AGAIN'];
const TRANSPORT = ['ETIMEDOUT', 'ESOCKET', 'ECONNRESET', 'ETLS', 'EPROTOCOL', 'ECONNECTION'];

/**
 * What to check, in the hosting guide's variable names, for an SMTP failure. Nodemailer puts
 * its own code (ESOCKET, EDNS…) in `code` and the system's (ECONNREFUSED…) in `originalCode`,
 * so both are read; the message text never is.
 */
export function smtpHint(
  err: unknown,
  smtp: { host: string; port: number } | null,
): SmtpHint | null {
  const e = err as {
    code?: string;
    originalCode?: string;
    responseCode?: number;
    address?: string;
    port?: number;
  } | null;
  if (!e || typeof e !== 'object') return null;
  const codes = [e.originalCode, e.code].filter((c): c is string => typeof c === 'string');
  const has = (list: string[]) => codes.some((c) => list.includes(c));
  const host = e.address ?? smtp?.host ?? '?';
  const port = e.port ?? smtp?.port ?? '?';
  if (has(REFUSED)) return { key: 'outbox.test.hints.refused', params: { host, port } };
  if (has(AUTH)) return { key: 'outbox.test.hints.auth', params: {} };
  if (has(DNS)) return { key: 'outbox.test.hints.dns', params: { host: smtp?.host ?? host } };
  if (typeof e.responseCode === 'number' && e.responseCode >= 500) {
    return { key: 'outbox.test.hints.rejected', params: { code: e.responseCode } };
  }
  if (typeof e.responseCode === 'number' && e.responseCode >= 400) {
    return { key: 'outbox.test.hints.temporary', params: { code: e.responseCode } };
  }
  // TLS failures arrive with OpenSSL's codes (ERR_SSL_…, CERT_…, DEPTH_ZERO_SELF_SIGNED_CERT).
  const tls = codes.some((c) =>
    /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED)/.test(c),
  );
  if (tls || has(TRANSPORT)) return { key: 'outbox.test.hints.transport', params: { port } };
  return null;
}

/**
 * Sends one test email now, through the same mailer as every other email, and says what the
 * server answered; the admin page shows it as is. Nothing is queued: this checks the road.
 */
export async function sendTestEmail(
  deps: { mailer: Mailer; config: Config; logger: Logger },
  input: { to: string; locale: Locale; requestedBy: { id: number } },
): Promise<TestEmailResult> {
  const { mailer, config, logger } = deps;
  const t = translator(input.locale);
  const locals = {
    t,
    kind: 'test',
    link: config.baseUrl,
    // The test may go to any address: greet the address, not the admin who asked.
    name: input.to,
    expiresHours: 1,
    baseUrl: config.baseUrl,
  };
  const render = (name: string) => renderEmail(path.join(PROJECT_ROOT, 'views'), name, locals);
  const domain = new URL(config.baseUrl).hostname || 'guichet.local';
  // Rendered outside the try: a template bug is ours, not the mail server's.
  const message = {
    to: { address: input.to },
    subject: t('emails.account.test.subject'),
    text: render('account.txt.ejs'),
    html: render('account.html.ejs'),
    messageId: `<test.${crypto.randomUUID()}@${domain}>`,
  };
  try {
    const result = await mailer.send(message);
    logger.info(
      { by: input.requestedBy.id, to: input.to, response: result.response },
      'test email sent',
    );
    return { ok: true, response: result.response };
  } catch (err) {
    const error = describeError(err);
    logger.warn({ by: input.requestedBy.id, to: input.to, error }, 'test email failed');
    return { ok: false, error, hint: smtpHint(err, config.email.smtp) };
  }
}
