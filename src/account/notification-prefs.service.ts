import type { Knex } from 'knex';
import { PREF_KEYS, type NotificationPrefs, type PrefKey } from '../notifications/recipients';
import * as repo from '../users/notification-prefs.repo';
import type { Role } from '../users/users.repo';

export interface PrefOption {
  key: PrefKey;
  /** i18n key of the checkbox label: some options read differently for staff. */
  label: string;
  checked: boolean;
}

/**
 * Employees are never assigned a ticket and never get internal notes, so those two options
 * would be switches that do nothing: they see only what can reach them.
 */
export function prefKeysFor(role: Role): PrefKey[] {
  return role === 'employee' ? ['created', 'reply', 'status'] : [...PREF_KEYS];
}

const ROLE_WORDED: PrefKey[] = ['created', 'reply'];

export function prefOptions(role: Role, stored: NotificationPrefs): PrefOption[] {
  const audience = role === 'employee' ? 'employee' : 'staff';
  return prefKeysFor(role).map((key) => ({
    key,
    label: `account.notifications.options.${ROLE_WORDED.includes(key) ? `${key}_${audience}` : key}`,
    checked: stored[key] !== false,
  }));
}

export async function readPrefOptions(
  db: Knex,
  user: { id: number; role: Role },
): Promise<PrefOption[]> {
  return prefOptions(user.role, await repo.getNotificationPrefs(db, user.id));
}

/** Stores an explicit true or false for every option the user was shown, and nothing else. */
export async function savePrefs(
  db: Knex,
  actor: { id: number; role: Role },
  checked: Partial<Record<PrefKey, boolean>>,
): Promise<NotificationPrefs> {
  const prefs: NotificationPrefs = {};
  for (const key of prefKeysFor(actor.role)) prefs[key] = checked[key] === true;
  await repo.mergeNotificationPrefs(db, actor.id, prefs);
  return prefs;
}
