import crypto from 'node:crypto';
import path from 'node:path';
import { templates } from '../http/views';
import type { Knex } from 'knex';
import type { Config, Locale } from '../config';
import { translator } from '../i18n';
import * as attachmentsRepo from '../tickets/attachments.repo';
import * as ticketsRepo from '../tickets/tickets.repo';
import { queueDelivery } from './delivery';
import {
  recipientsFor,
  type EmailKind,
  type NotificationPrefs,
  type Person,
  type TicketNotice,
} from './recipients';

type Trx = Knex | Knex.Transaction;

export interface Outbox {
  /** Writes the emails a ticket change causes, in the caller's transaction. */
  notifyTicket(
    trx: Trx,
    ticketId: number,
    notice: TicketNotice,
    extra?: NoticeExtra,
  ): Promise<void>;
  /** Writes one account email (invitation, password reset, test). */
  queueAccountEmail(trx: Trx, email: AccountEmail): Promise<number>;
}

export interface NoticeExtra {
  /** The reply or note text, quoted in the email. */
  body?: string;
  /** Names of the files attached with it. */
  fileNames?: string[];
}

export interface AccountEmail {
  to: { id: number | null; email: string; name: string; locale: Locale };
  kind: 'invitation' | 'password_reset' | 'test';
  link?: string;
  expiresHours?: number;
}

interface PersonRow {
  id: number;
  email: string;
  name: string;
  role: Person['role'];
  active: boolean;
  locale: Locale | null;
  notification_prefs: NotificationPrefs | null;
}

const toPerson = (r: PersonRow): Person => ({
  id: r.id,
  email: r.email,
  name: r.name,
  role: r.role,
  active: r.active,
  locale: r.locale,
  prefs: r.notification_prefs ?? {},
});

const PERSON_COLUMNS = ['id', 'email', 'name', 'role', 'active', 'locale', 'notification_prefs'];

/** The hostname used in Message-IDs, from APP_URL. */
function mailDomain(baseUrl: string): string {
  return new URL(baseUrl).hostname || 'guichet.local';
}

const plain = (v: unknown) => (v === undefined || v === null ? '' : String(v));

/** The email templates of each views folder (one in the app; tests may use another). */
const emailTemplates = new Map<string, ReturnType<typeof templates>>();

/**
 * Renders one template of views/emails/, with the pages' engine. Plain-text parts are not
 * HTML: `<%= %>` must not turn "O'Brien" into "O&#39;Brien" there. With `cache` (production),
 * each template is read and compiled once: a new ticket renders two per recipient, and
 * compiling them each time cost ten times the rendering.
 */
export function renderEmail(
  viewsDir: string,
  name: string,
  locals: Record<string, unknown>,
  cache = false,
): string {
  let render = emailTemplates.get(viewsDir);
  if (!render) {
    render = templates(viewsDir);
    emailTemplates.set(viewsDir, render);
  }
  return render(path.join(viewsDir, 'emails', name), locals, {
    cache,
    ...(name.endsWith('.txt.ejs') ? { escape: plain } : {}),
  });
}

export function createOutbox(config: Config, viewsDir: string): Outbox {
  const domain = mailDomain(config.baseUrl);
  const render = (name: string, locals: Record<string, unknown>) =>
    renderEmail(viewsDir, name, locals, config.isProd);

  async function insert(
    trx: Trx,
    row: {
      ticketId: number | null;
      recipient: { id: number | null; email: string; name: string };
      locale: Locale;
      kind: string;
      subject: string;
      text: string;
      html: string;
      messageId: string;
      threadRoot: string | null;
      deliveryKey: string;
    },
  ): Promise<number> {
    const [inserted] = await trx('notifications')
      .insert({
        ticket_id: row.ticketId,
        recipient_id: row.recipient.id,
        to_email: row.recipient.email,
        to_name: row.recipient.name,
        locale: row.locale,
        kind: row.kind,
        subject: row.subject,
        text_body: row.text,
        html_body: row.html,
        message_id: row.messageId,
        in_reply_to: row.threadRoot,
        references: row.threadRoot,
        delivery_key: row.deliveryKey,
      })
      .returning('id');
    return inserted.id;
  }

  async function parties(trx: Trx, ticket: ticketsRepo.Ticket) {
    const category = ticket.categoryId
      ? await trx('categories').where({ id: ticket.categoryId }).first('default_assignee_id')
      : null;
    let technicians = (await trx('users')
      .where({ role: 'technician', active: true })
      .select(PERSON_COLUMNS)) as PersonRow[];
    if (!technicians.length) {
      technicians = (await trx('users')
        .where({ role: 'admin', active: true })
        .select(PERSON_COLUMNS)) as PersonRow[];
    }
    // The three people in one query: a transaction has one connection, and queries sent to
    // it together would wait in line there anyway (which pg deprecates).
    const ids = [ticket.requesterId, ticket.assigneeId, category?.default_assignee_id ?? null];
    const rows = (await trx('users')
      .whereIn(
        'id',
        ids.filter((id): id is number => id !== null),
      )
      .select(PERSON_COLUMNS)) as PersonRow[];
    const person = (id: number | null) => rows.find((r) => id !== null && r.id === Number(id));
    const [requester, assignee, categoryDefault] = ids.map(person);
    return {
      requester: toPerson(requester!),
      assignee: assignee ? toPerson(assignee) : null,
      categoryDefault: categoryDefault ? toPerson(categoryDefault) : null,
      technicians: technicians.map(toPerson),
    };
  }

  return {
    async notifyTicket(trx, ticketId, notice, extra = {}) {
      if (!config.email.enabled) return;
      const ticket = await ticketsRepo.findTicket(trx, ticketId);
      if (!ticket) return;
      const recipients = recipientsFor(notice, await parties(trx, ticket));
      if (!recipients.length) return;
      const actor = notice.actorId
        ? ((await trx('users').where({ id: notice.actorId }).first('name')) as
            { name: string } | undefined)
        : undefined;
      const fileNames =
        extra.fileNames ??
        (notice.type === 'created'
          ? (await attachmentsRepo.listAttachments(trx, ticketId)).map((a) => a.originalName)
          : []);
      const link = `${config.baseUrl}/tickets/${ticket.id}`;
      for (const { person, kind } of recipients) {
        const locale: Locale = person.locale ?? config.defaultLocale;
        const t = translator(locale);
        const locals = {
          t,
          kind,
          ticket,
          actorName: actor?.name ?? t('tickets.timeline.system'),
          body:
            kind === 'ticket_created' || kind === 'ticket_acknowledged'
              ? ticket.description
              : (extra.body ?? null),
          fileNames,
          toStatus:
            notice.type === 'status'
              ? notice.to
              : notice.type === 'reply'
                ? (notice.toStatus ?? null)
                : null,
          link,
          accountLink: `${config.baseUrl}/account`,
          recipientName: person.name,
        };
        const root = `<ticket-${ticket.id}.${person.id}@${domain}>`;
        const first = kind === 'ticket_created' || kind === 'ticket_acknowledged';
        await insert(trx, {
          ticketId: ticket.id,
          recipient: person,
          locale,
          kind,
          subject: `[#${ticket.id}] ${ticket.title}`,
          text: render('ticket.txt.ejs', locals),
          html: render('ticket.html.ejs', locals),
          messageId: first
            ? root
            : `<ticket-${ticket.id}.${person.id}.${crypto.randomUUID()}@${domain}>`,
          threadRoot: first ? null : root,
          deliveryKey: `ticket:${ticket.id}`,
        });
      }
      // Queued in the same transaction: the emails exist if and only if the change does.
      await queueDelivery(trx, `ticket:${ticket.id}`);
    },

    async queueAccountEmail(trx, email) {
      if (!config.email.enabled) return 0;
      const t = translator(email.to.locale);
      const locals = {
        t,
        kind: email.kind,
        link: email.link ?? config.baseUrl,
        name: email.to.name,
        expiresHours: email.expiresHours ?? 1,
        baseUrl: config.baseUrl,
      };
      const key = `account:${crypto.randomUUID()}`;
      const id = await insert(trx, {
        ticketId: null,
        recipient: email.to,
        locale: email.to.locale,
        kind: email.kind,
        subject: t(`emails.account.${email.kind}.subject`),
        text: render('account.txt.ejs', locals),
        html: render('account.html.ejs', locals),
        messageId: `<${key.replace(':', '.')}@${domain}>`,
        threadRoot: null,
        deliveryKey: key,
      });
      await queueDelivery(trx, key);
      return id;
    },
  };
}

export type { EmailKind };
