import type { Knex } from 'knex';
import type { NotificationPrefs } from '../notifications/recipients';

type Db = Knex | Knex.Transaction;

/** What the user stored; a missing key means "yes" (see recipients.ts). */
export async function getNotificationPrefs(db: Db, userId: number): Promise<NotificationPrefs> {
  const row = (await db('users').where({ id: userId }).first('notification_prefs')) as
    { notification_prefs: NotificationPrefs | null } | undefined;
  return row?.notification_prefs ?? {};
}

/**
 * Merges `prefs` into what is stored, in one statement: keys not given (options the user's
 * role does not show) keep their value.
 */
export async function mergeNotificationPrefs(
  db: Db,
  userId: number,
  prefs: NotificationPrefs,
): Promise<void> {
  await db('users')
    .where({ id: userId })
    .update({
      notification_prefs: db.raw(`coalesce(notification_prefs, '{}'::jsonb) || ?::jsonb`, [
        JSON.stringify(prefs),
      ]),
      updated_at: db.fn.now(),
    });
}
