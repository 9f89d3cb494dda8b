import type { Knex } from 'knex';
import { isDatabaseUnavailable } from '../http/errors';
import type { Logger } from '../logger';
import { describeError, isTemporary, type Mailer } from './mailer';

export interface DeliveryOptions {
  /** First retry delay; each next one doubles, up to MAX_BACKOFF_MS. */
  backoffMs: number;
  maxAttempts: number;
  /** A row left "sending" longer than this (its process died) is tried again. */
  staleSendingMs: number;
}

export const DEFAULT_DELIVERY: DeliveryOptions = {
  backoffMs: 30_000,
  maxAttempts: 10,
  staleSendingMs: 5 * 60_000,
};

const MAX_BACKOFF_MS = 30 * 60_000;
/** How long the outcome of a send is retried while the database is unreachable (see record). */
const RECORD_PATIENCE_MS = 60_000;

/**
 * Writes what became of a row this process tried to send. The process knows the outcome; if
 * the database is away for a moment (a restart), the write is tried again for up to a minute
 * rather than left undone: the row would stay "sending" until the stale-row rule released it
 * five minutes later, and an email the server had accepted would then go out twice.
 */
async function record(work: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + RECORD_PATIENCE_MS;
  for (let wait = 250; ; wait = Math.min(wait * 2, 5000)) {
    try {
      await work();
      return;
    } catch (err) {
      if (!isDatabaseUnavailable(err) || Date.now() + wait > deadline) throw err;
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

interface NotificationRow {
  id: number;
  to_email: string;
  to_name: string | null;
  subject: string;
  text_body: string;
  html_body: string;
  message_id: string;
  in_reply_to: string | null;
  references: string | null;
  status: string;
  attempts: number;
  next_attempt_at: Date;
  sending_since: Date | null;
}

export function backoff(attempts: number, opts: DeliveryOptions): number {
  return Math.min(opts.backoffMs * 2 ** Math.max(0, attempts - 1), MAX_BACKOFF_MS);
}

/**
 * Queues the delivery job of a key (one job per key: graphile-worker's job_key), now or at
 * `at`. Runs in the caller's transaction when given one.
 */
export async function queueDelivery(
  db: Knex | Knex.Transaction,
  key: string,
  at: Date = new Date(),
): Promise<void> {
  await db.raw(
    `select graphile_worker.add_job('deliver_mail', json_build_object('key', ?::text), run_at => ?::timestamptz, job_key => ?::text)`,
    [key, at.toISOString(), `mail:${key}`],
  );
}

/**
 * Sends the emails of one delivery key (one ticket) in order. Each row is claimed with a
 * conditional update before it is sent, so two processes never send the same row, and marked
 * sent as soon as the server accepted it. A temporary failure keeps the row and everything after
 * it for later (order per ticket is kept); a permanent one marks the row failed and moves on.
 */
export async function deliverKey(
  db: Knex,
  mailer: Mailer,
  key: string,
  logger: Logger,
  opts: DeliveryOptions = DEFAULT_DELIVERY,
): Promise<void> {
  for (;;) {
    const head = (await db('notifications')
      .where({ delivery_key: key })
      .whereIn('status', ['pending', 'retry', 'sending'])
      .orderBy('id')
      .first()) as NotificationRow | undefined;
    if (!head) return;
    const now = Date.now();
    if (head.status === 'sending') {
      const since = head.sending_since?.getTime() ?? 0;
      // Another process is sending it, or was: reclaim only once that is clearly stale.
      if (now - since < opts.staleSendingMs) {
        await queueDelivery(db, key, new Date(since + opts.staleSendingMs + 1000));
        return;
      }
    } else if (head.next_attempt_at.getTime() > now) {
      await queueDelivery(db, key, head.next_attempt_at);
      return;
    }
    const claimed = (await db('notifications')
      .where({ id: head.id, status: head.status, attempts: head.attempts })
      .update({ status: 'sending', sending_since: db.fn.now(), attempts: head.attempts + 1 })
      .returning('*')) as NotificationRow[];
    if (!claimed.length) return; // someone else took it
    const row = claimed[0];
    let response: string;
    try {
      ({ response } = await mailer.send({
        to: { name: row.to_name, address: row.to_email },
        subject: row.subject,
        text: row.text_body,
        html: row.html_body,
        messageId: row.message_id,
        inReplyTo: row.in_reply_to,
        references: row.references,
      }));
    } catch (err) {
      const message = describeError(err);
      if (isTemporary(err) && row.attempts < opts.maxAttempts) {
        const next = new Date(Date.now() + backoff(row.attempts, opts));
        await record(() =>
          db('notifications').where({ id: row.id }).update({
            status: 'retry',
            last_error: message,
            next_attempt_at: next,
            sending_since: null,
          }),
        );
        logger.warn(
          { notification: row.id, attempt: row.attempts, retryAt: next, error: message },
          'email delivery failed; will retry',
        );
        await record(() => queueDelivery(db, key, next));
        return;
      }
      await record(() =>
        db('notifications')
          .where({ id: row.id })
          .update({ status: 'failed', last_error: message, sending_since: null }),
      );
      logger.warn(
        { notification: row.id, attempt: row.attempts, error: message },
        'email delivery failed for good',
      );
      continue;
    }
    // Sent: from here on a failure is the database's, never a reason to send it again.
    await record(() =>
      db('notifications')
        .where({ id: row.id })
        .update({
          status: 'sent',
          sent_at: db.fn.now(),
          smtp_response: response.slice(0, 500),
          last_error: null,
          sending_since: null,
        }),
    );
    // A retry just went through: the server is back, so the others need not wait out
    // their backoff.
    if (row.attempts > 1) await wakeRetries(db, opts);
  }
}

let lastWake = 0;

/** Makes every waiting retry due now (at most once every 5 s) and queues their jobs. */
async function wakeRetries(db: Knex, opts: DeliveryOptions): Promise<void> {
  if (Date.now() - lastWake < 5000) return;
  lastWake = Date.now();
  await db('notifications')
    .where('status', 'retry')
    .where('next_attempt_at', '>', db.fn.now())
    .update({ next_attempt_at: db.fn.now() });
  await sweep(db, opts);
}

/**
 * Finds delivery keys with work due (new rows whose job was lost, retries, sends interrupted by
 * a crash) and queues their jobs. Runs every minute and at start-up.
 */
export async function sweep(db: Knex, opts: DeliveryOptions = DEFAULT_DELIVERY): Promise<number> {
  const rows = (await db('notifications')
    .where((w) =>
      w
        .where((x) =>
          x.whereIn('status', ['pending', 'retry']).where('next_attempt_at', '<=', db.fn.now()),
        )
        .orWhere((x) =>
          x
            .where('status', 'sending')
            .whereRaw('sending_since < now() - make_interval(secs => ?)', [
              opts.staleSendingMs / 1000,
            ]),
        ),
    )
    .distinct('delivery_key')
    .limit(1000)) as { delivery_key: string }[];
  for (const r of rows) {
    await queueDelivery(db, r.delivery_key);
  }
  return rows.length;
}

/** "Send again" from the outbox page: a failed row goes back to the queue. */
export async function retryNotification(db: Knex, id: number): Promise<boolean> {
  const [row] = (await db('notifications')
    .where({ id })
    .whereIn('status', ['failed', 'sent'])
    .update({ status: 'retry', next_attempt_at: db.fn.now(), attempts: 0, last_error: null })
    .returning(['delivery_key'])) as { delivery_key: string }[];
  if (!row) return false;
  await queueDelivery(db, row.delivery_key, new Date());
  return true;
}
