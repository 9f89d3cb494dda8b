import type { Knex } from 'knex';
import { recordAudit } from '../audit/audit.repo';

type Db = Knex | Knex.Transaction;

/** What admins can change at run time; each falls back to its environment variable. */
export interface Settings {
  /** Days before a resolved ticket closes by itself (AUTO_CLOSE_DAYS). */
  autoCloseDays: number;
}

export type SettingsDefaults = Settings;

const KEYS: Record<keyof Settings, string> = { autoCloseDays: 'auto_close_days' };

export async function loadSettings(db: Db, defaults: SettingsDefaults): Promise<Settings> {
  const rows = (await db('settings').select('key', 'value')) as { key: string; value: unknown }[];
  const stored = new Map(rows.map((r) => [r.key, r.value]));
  const value = stored.get(KEYS.autoCloseDays);
  return {
    autoCloseDays: Number.isInteger(value) ? (value as number) : defaults.autoCloseDays,
  };
}

/** Saves what changed and audits each change, in one transaction. Returns the keys changed. */
export async function saveSettings(
  db: Knex,
  actorId: number,
  defaults: SettingsDefaults,
  next: Settings,
): Promise<(keyof Settings)[]> {
  return db.transaction(async (trx) => {
    await trx.raw('lock table settings in share row exclusive mode');
    const current = await loadSettings(trx, defaults);
    const changed = (Object.keys(KEYS) as (keyof Settings)[]).filter((k) => current[k] !== next[k]);
    for (const k of changed) {
      await trx('settings')
        .insert({ key: KEYS[k], value: JSON.stringify(next[k]), updated_at: trx.fn.now() })
        .onConflict('key')
        .merge();
    }
    await recordAudit(
      trx,
      actorId,
      changed.map((k) => ({
        action: 'settings.changed' as const,
        subjectType: 'settings' as const,
        subjectId: null,
        field: KEYS[k],
        from: current[k],
        to: next[k],
      })),
    );
    return changed;
  });
}
