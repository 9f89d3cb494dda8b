import type { Knex } from 'knex';

type Db = Knex | Knex.Transaction;

export type AuditSubject = 'user' | 'category' | 'settings';

/** What an admin did; `from`/`to` hold raw values (role codes, names), the view words them. */
export type AuditAction =
  | 'user.created'
  | 'user.name_changed'
  | 'user.email_changed'
  | 'user.role_changed'
  | 'user.deactivated'
  | 'user.reactivated'
  | 'user.password_set'
  | 'category.created'
  | 'category.renamed'
  | 'category.default_assignee_changed'
  | 'category.deactivated'
  | 'category.reactivated'
  | 'category.moved'
  | 'settings.changed';

export interface AuditEntry {
  action: AuditAction;
  subjectType: AuditSubject;
  subjectId: number | null;
  /** For settings: the key that changed, e.g. `auto_close_days`. */
  field?: string | null;
  from?: string | number | null;
  to?: string | number | null;
}

export interface AuditEvent {
  id: number;
  action: AuditAction;
  subjectType: AuditSubject;
  subjectId: number | null;
  field: string | null;
  from: string | null;
  to: string | null;
  actorId: number | null;
  actorName: string | null;
  subjectName: string | null;
  createdAt: Date;
}

interface AuditRow {
  id: number;
  actor_id: number | null;
  actor_name: string | null;
  subject_name: string | null;
  action: AuditAction;
  subject_type: AuditSubject;
  subject_id: number | null;
  field: string | null;
  from_value: string | null;
  to_value: string | null;
  created_at: Date;
}

const text = (v: string | number | null | undefined) =>
  v === null || v === undefined ? null : String(v);

/** Writes entries in the caller's transaction: the audit exists if and only if the change does. */
export async function recordAudit(
  trx: Db,
  actorId: number | null,
  entries: AuditEntry[],
): Promise<void> {
  if (!entries.length) return;
  await trx('audit_events').insert(
    entries.map((e) => ({
      actor_id: actorId,
      action: e.action,
      subject_type: e.subjectType,
      subject_id: e.subjectId,
      field: e.field ?? null,
      from_value: text(e.from),
      to_value: text(e.to),
    })),
  );
}

/** One entry per field whose value differs between `before` and `after`. */
export function changes<T extends object>(
  subjectType: AuditSubject,
  subjectId: number,
  before: T,
  after: T,
  actions: Partial<Record<keyof T, AuditAction>>,
): AuditEntry[] {
  return (Object.keys(actions) as (keyof T)[])
    .filter((k) => after[k] !== undefined && before[k] !== after[k])
    .map((k) => ({
      action: actions[k]!,
      subjectType,
      subjectId,
      from: before[k] as string | number | null,
      to: after[k] as string | number | null,
    }));
}

/** The (de)activation of a user or category, when its active flag changed. */
export function activation(
  subjectType: 'user' | 'category',
  subjectId: number,
  before: { active: boolean },
  after: { active: boolean },
): AuditEntry[] {
  if (before.active === after.active) return [];
  const action = `${subjectType}.${after.active ? 'reactivated' : 'deactivated'}` as const;
  return [{ action, subjectType, subjectId }];
}

const toEvent = (r: AuditRow): AuditEvent => ({
  id: r.id,
  actorId: r.actor_id,
  actorName: r.actor_name,
  subjectName: r.subject_name,
  action: r.action,
  subjectType: r.subject_type,
  subjectId: r.subject_id,
  field: r.field,
  from: r.from_value,
  to: r.to_value,
  createdAt: r.created_at,
});

function auditQuery(db: Db) {
  return db('audit_events as e')
    .leftJoin('users as a', 'a.id', 'e.actor_id')
    .leftJoin('users as su', (j) =>
      j.on('su.id', '=', 'e.subject_id').andOnVal('e.subject_type', '=', 'user'),
    )
    .leftJoin('categories as sc', (j) =>
      j.on('sc.id', '=', 'e.subject_id').andOnVal('e.subject_type', '=', 'category'),
    )
    .select('e.*', 'a.name as actor_name', db.raw('coalesce(su.name, sc.name) as subject_name'))
    .orderBy('e.id', 'desc');
}

/** The history of one user, category or of the settings, newest first. */
export async function historyOf(
  db: Db,
  subjectType: AuditSubject,
  subjectId: number | null,
  limit = 50,
): Promise<AuditEvent[]> {
  const q = auditQuery(db).where('e.subject_type', subjectType).limit(limit);
  if (subjectId === null) q.whereNull('e.subject_id');
  else q.where('e.subject_id', subjectId);
  return ((await q) as AuditRow[]).map(toEvent);
}

/** Every admin action, newest first, keyset-paged by id. */
export async function recentAudit(
  db: Db,
  opts: { before?: number; limit: number },
): Promise<AuditEvent[]> {
  const q = auditQuery(db).limit(opts.limit);
  if (opts.before) q.where('e.id', '<', opts.before);
  return ((await q) as AuditRow[]).map(toEvent);
}
