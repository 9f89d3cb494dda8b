/**
 * Read side of the outbox for the admin page: lists, counts and one email. Writes stay in
 * outbox.ts (queueing) and delivery.ts (sending, retrying).
 */
import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export const NOTIFICATION_STATUSES = ['pending', 'sending', 'retry', 'sent', 'failed'] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export const OUTBOX_PAGE_SIZE = 50;
/** Status tab counts stop counting here and show "99+", as the ticket queue does. */
export const OUTBOX_COUNT_CAP = 99;

export interface OutboxEmail {
  id: number;
  ticketId: number | null;
  recipientId: number | null;
  toEmail: string;
  toName: string | null;
  locale: string;
  kind: string;
  subject: string;
  status: NotificationStatus;
  attempts: number;
  lastError: string | null;
  smtpResponse: string | null;
  nextAttemptAt: Date;
  sendingSince: Date | null;
  sentAt: Date | null;
  createdAt: Date;
}

export interface OutboxEmailDetail extends OutboxEmail {
  messageId: string;
  inReplyTo: string | null;
  references: string | null;
  deliveryKey: string;
  textBody: string;
}

export interface OutboxFilter {
  status?: NotificationStatus;
  /** Part of the recipient's address or of the subject. */
  q?: string;
  ticketId?: number;
  /** Keyset cursor: only emails with a smaller id (ids grow with time). */
  before?: number;
}

export interface OutboxPage {
  rows: OutboxEmail[];
  /** The `before` of the next page, or null on the last one. */
  nextBefore: number | null;
}

interface Row {
  id: string | number;
  ticket_id: string | number | null;
  recipient_id: string | number | null;
  to_email: string;
  to_name: string | null;
  locale: string;
  kind: string;
  subject: string;
  status: NotificationStatus;
  attempts: number;
  last_error: string | null;
  smtp_response: string | null;
  next_attempt_at: Date;
  sending_since: Date | null;
  sent_at: Date | null;
  created_at: Date;
}

interface DetailRow extends Row {
  message_id: string;
  in_reply_to: string | null;
  references: string | null;
  delivery_key: string;
  text_body: string;
}

// The bodies stay out of the list: they are the bulk of each row.
const LIST_COLUMNS = [
  'id',
  'ticket_id',
  'recipient_id',
  'to_email',
  'to_name',
  'locale',
  'kind',
  'subject',
  'status',
  'attempts',
  'last_error',
  'smtp_response',
  'next_attempt_at',
  'sending_since',
  'sent_at',
  'created_at',
];

const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

const toEmail = (r: Row): OutboxEmail => ({
  id: Number(r.id),
  ticketId: num(r.ticket_id),
  recipientId: num(r.recipient_id),
  toEmail: r.to_email,
  toName: r.to_name,
  locale: r.locale,
  kind: r.kind,
  subject: r.subject,
  status: r.status,
  attempts: r.attempts,
  lastError: r.last_error,
  smtpResponse: r.smtp_response,
  nextAttemptAt: r.next_attempt_at,
  sendingSince: r.sending_since,
  sentAt: r.sent_at,
  createdAt: r.created_at,
});

/** `%`, `_` and `\` typed by the admin match themselves, not "anything". */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function applyFilter(q: Knex.QueryBuilder, f: Omit<OutboxFilter, 'status' | 'before'>) {
  if (f.ticketId !== undefined) q.where('ticket_id', f.ticketId);
  if (f.q) {
    const pattern = `%${escapeLike(f.q)}%`;
    q.where((w) =>
      w
        .whereRaw(`to_email ilike ? escape '\\'`, [pattern])
        .orWhereRaw(`subject ilike ? escape '\\'`, [pattern]),
    );
  }
  return q;
}

/** Newest first, one page; `before` continues after the last row of the previous page. */
export async function listOutbox(
  db: Db,
  f: OutboxFilter,
  limit = OUTBOX_PAGE_SIZE,
): Promise<OutboxPage> {
  const q = db('notifications').select(LIST_COLUMNS);
  applyFilter(q, f);
  if (f.status) q.where('status', f.status);
  if (f.before !== undefined) q.where('id', '<', f.before);
  const rows = (await q.orderBy('id', 'desc').limit(limit + 1)) as Row[];
  const page = rows.slice(0, limit).map(toEmail);
  return {
    rows: page,
    nextBefore: rows.length > limit ? page[page.length - 1].id : null,
  };
}

/** How many emails per status under the other filters, each counted up to `cap` + 1. */
export async function countOutboxByStatus(
  db: Db,
  f: Omit<OutboxFilter, 'status' | 'before'>,
  cap = OUTBOX_COUNT_CAP,
): Promise<Record<NotificationStatus, number>> {
  const counts = await Promise.all(
    NOTIFICATION_STATUSES.map(async (status) => {
      const inner = applyFilter(db('notifications').where('status', status).select(db.raw('1')), f)
        .limit(cap + 1)
        .as('capped');
      const row = (await db.from(inner).count<{ count: string }[]>('* as count').first()) as
        { count: string | number } | undefined;
      return [status, Number(row?.count ?? 0)] as const;
    }),
  );
  return Object.fromEntries(counts) as Record<NotificationStatus, number>;
}

export async function findOutboxEmail(db: Db, id: number): Promise<OutboxEmailDetail | null> {
  const row = (await db('notifications')
    .where({ id })
    .first([
      ...LIST_COLUMNS,
      'message_id',
      'in_reply_to',
      'references',
      'delivery_key',
      'text_body',
    ])) as DetailRow | undefined;
  if (!row) return null;
  return {
    ...toEmail(row),
    messageId: row.message_id,
    inReplyTo: row.in_reply_to,
    references: row.references,
    deliveryKey: row.delivery_key,
    textBody: row.text_body,
  };
}
