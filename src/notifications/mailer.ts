import fs from 'node:fs';
import path from 'node:path';
import nodemailer, { type SendMailOptions } from 'nodemailer';
import type { Config } from '../config';
import type { Logger } from '../logger';

export interface MailMessage {
  to: { name?: string | null; address: string };
  subject: string;
  text: string;
  html: string;
  messageId: string;
  inReplyTo?: string | null;
  references?: string | null;
}

export interface SendResult {
  /** The server's answer ("250 2.0.0 Ok: queued as …"), or where the file was written. */
  response: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<SendResult>;
  /** Checks the connection and the credentials without sending anything. */
  verify(): Promise<string>;
  close(): void;
  /** How mail leaves, for the admin page: an SMTP server, or files in a folder. */
  describe(): { kind: 'smtp' | 'files'; target: string };
}

/** Whether a failure may go away by itself (retry) or not (mark failed). */
export function isTemporary(err: unknown): boolean {
  const e = err as { responseCode?: number; code?: string };
  if (typeof e?.responseCode === 'number') return e.responseCode >= 400 && e.responseCode < 500;
  // No SMTP answer at all: the server is down, slow or unreachable.
  return !['EENVELOPE', 'EMESSAGE'].includes(e?.code ?? '');
}

/** One line for the outbox and the admin page, without the stack. */
export function describeError(err: unknown): string {
  const e = err as { responseCode?: number; response?: string; code?: string; message?: string };
  if (e?.response) return e.response.slice(0, 500);
  return `${e?.code ? `${e.code}: ` : ''}${e?.message ?? String(err)}`.slice(0, 500);
}

function toNodemailer(from: Config['email']['from'], m: MailMessage): SendMailOptions {
  return {
    from: { name: from.name, address: from.address },
    to: m.to.name ? { name: m.to.name, address: m.to.address } : m.to.address,
    subject: m.subject,
    text: m.text,
    html: m.html,
    messageId: m.messageId,
    inReplyTo: m.inReplyTo ?? undefined,
    references: m.references ?? undefined,
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
  };
}

/** SMTP with pooled connections, configured from the hosting guide's variables. */
export function smtpMailer(
  email: Config['email'],
  smtp: NonNullable<Config['email']['smtp']>,
): Mailer {
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: 3,
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    requireTLS: smtp.requireTLS,
    auth: smtp.user ? { user: smtp.user, pass: smtp.password ?? '' } : undefined,
    tls: { rejectUnauthorized: smtp.rejectUnauthorized },
    connectionTimeout: 10000,
    greetingTimeout: 10000,
    socketTimeout: 30000,
  });
  return {
    async send(m) {
      const info = await transport.sendMail(toNodemailer(email.from, m));
      return { response: String(info.response ?? 'accepted') };
    },
    async verify() {
      await transport.verify();
      return `SMTP ${smtp.host}:${smtp.port}: connection and login OK`;
    },
    close: () => transport.close(),
    describe: () => ({
      kind: 'smtp',
      target: `${smtp.host}:${smtp.port}${smtp.secure ? ' (TLS)' : smtp.requireTLS ? ' (STARTTLS)' : ''}`,
    }),
  };
}

/**
 * Without SMTP (the evaluation default) every email becomes an .eml file under data/mail/,
 * and the log says where, with the ticket link, so a newcomer sees what would be sent.
 */
export function fileMailer(email: Config['email'], logger: Logger): Mailer {
  const transport = nodemailer.createTransport({
    streamTransport: true,
    buffer: true,
    newline: 'unix',
  });
  return {
    async send(m) {
      const info = await transport.sendMail(toNodemailer(email.from, m));
      await fs.promises.mkdir(email.outboxDir, { recursive: true });
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${m.messageId.replace(/[^\w.-]/g, '')}.eml`;
      const file = path.join(email.outboxDir, name);
      await fs.promises.writeFile(file, info.message as Buffer);
      const link = /https?:\/\/\S+\/tickets\/\d+/.exec(m.text)?.[0];
      logger.info(
        { to: m.to.address, subject: m.subject, file, link },
        'email written to a file (no SMTP configured)',
      );
      return { response: `written to ${file}` };
    },
    verify: async () => `no SMTP server configured: emails are written to ${email.outboxDir}`,
    close: () => undefined,
    describe: () => ({ kind: 'files', target: email.outboxDir }),
  };
}

export function createMailer(config: Config, logger: Logger): Mailer {
  return config.email.smtp
    ? smtpMailer(config.email, config.email.smtp)
    : fileMailer(config.email, logger);
}
