import type { TFunction } from '../i18n';
import type { AuditEvent } from './audit.repo';

export interface AuditLine {
  id: number;
  at: Date;
  actor: string | null;
  subject: { type: AuditEvent['subjectType']; id: number | null; name: string | null };
  text: string;
}

/** A stored value in the reader's words: role codes translated, a missing value as a dash. */
function word(e: AuditEvent, value: string | null, t: TFunction): string {
  if (value === null || value === '') return t('audit.none');
  if (e.action === 'user.role_changed' || e.action === 'user.created') return t(`roles.${value}`);
  return value;
}

/** One sentence per event: "Rôle : Employé → Technicien". */
export function describeAudit(events: AuditEvent[], t: TFunction): AuditLine[] {
  return events.map((e) => ({
    id: e.id,
    at: e.createdAt,
    actor: e.actorName,
    subject: { type: e.subjectType, id: e.subjectId, name: e.subjectName },
    text: t(`audit.actions.${e.action}`, {
      field: e.field ? t(`audit.fields.${e.field}`) : '',
      from: word(e, e.from, t),
      to: word(e, e.to, t),
    }),
  }));
}
