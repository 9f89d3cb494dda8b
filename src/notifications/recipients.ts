/**
 * Who gets an email for what (pure rules, unit-tested). Never the author of the change (the
 * requester's acknowledgement of their own new ticket is the one exception), never an internal
 * note to the requester, never a deactivated account, never twice for one change, and only
 * the kinds each person kept in their preferences.
 */
import type { Status } from '../tickets/workflow';
import type { Role } from '../users/users.repo';

export const PREF_KEYS = ['created', 'assigned', 'reply', 'status', 'note'] as const;
export type PrefKey = (typeof PREF_KEYS)[number];
export type NotificationPrefs = Partial<Record<PrefKey, boolean>>;

export interface Person {
  id: number;
  email: string;
  name: string;
  role: Role;
  active: boolean;
  locale: 'fr' | 'en' | null;
  prefs: NotificationPrefs;
}

export type TicketNotice =
  | { type: 'created'; actorId: number }
  | { type: 'assigned'; actorId: number; assigneeId: number }
  | { type: 'reply'; actorId: number; toStatus?: Status }
  | { type: 'status'; actorId: number | null; to: Status }
  | { type: 'note'; actorId: number };

export type EmailKind =
  | 'ticket_created'
  | 'ticket_acknowledged'
  | 'ticket_assigned'
  | 'reply_to_requester'
  | 'reply_to_staff'
  | 'status_changed'
  | 'note_added';

export interface Recipient {
  person: Person;
  kind: EmailKind;
}

export interface Parties {
  requester: Person;
  assignee: Person | null;
  /** The category's default assignee, when the ticket has a category that names one. */
  categoryDefault: Person | null;
  /** Every active technician (the fallback audience of a new or unassigned ticket). */
  technicians: Person[];
}

const PREF_OF: Record<EmailKind, PrefKey> = {
  ticket_created: 'created',
  ticket_acknowledged: 'created',
  ticket_assigned: 'assigned',
  reply_to_requester: 'reply',
  reply_to_staff: 'reply',
  status_changed: 'status',
  note_added: 'note',
};

/** Status changes the requester hears about. */
const REQUESTER_STATUSES: Status[] = ['waiting', 'resolved', 'closed'];

export function wants(p: Person, kind: EmailKind): boolean {
  return p.prefs[PREF_OF[kind]] !== false;
}

export function recipientsFor(notice: TicketNotice, parties: Parties): Recipient[] {
  const { requester, assignee } = parties;
  const isStaff = (p: Person | null): p is Person =>
    !!p && (p.role === 'technician' || p.role === 'admin');
  const staffAudience = (): Person[] => {
    if (assignee && isStaff(assignee) && assignee.active) return [assignee];
    if (
      parties.categoryDefault &&
      isStaff(parties.categoryDefault) &&
      parties.categoryDefault.active
    ) {
      return [parties.categoryDefault];
    }
    return parties.technicians;
  };
  const list: Recipient[] = [];
  const add = (people: (Person | null)[], kind: EmailKind) => {
    for (const p of people) if (p) list.push({ person: p, kind });
  };

  switch (notice.type) {
    case 'created':
      add([requester], 'ticket_acknowledged');
      add(staffAudience(), 'ticket_created');
      break;
    case 'assigned':
      add([assignee && assignee.id === notice.assigneeId ? assignee : null], 'ticket_assigned');
      break;
    case 'reply':
      if (notice.actorId === requester.id) add(staffAudience(), 'reply_to_staff');
      else if (
        !wants(requester, 'reply_to_requester') &&
        notice.toStatus &&
        REQUESTER_STATUSES.includes(notice.toStatus)
      ) {
        // Replies off, status changes on: the reply that set "waiting" still says so.
        add([requester], 'status_changed');
      } else add([requester], 'reply_to_requester');
      break;
    case 'status':
      if (REQUESTER_STATUSES.includes(notice.to)) add([requester], 'status_changed');
      break;
    case 'note':
      add([assignee], 'note_added');
      break;
  }

  const seen = new Set<number>();
  return list.filter(({ person, kind }) => {
    if (seen.has(person.id)) return false;
    seen.add(person.id);
    if (!person.active) return false;
    if (kind === 'note_added' && (person.id === requester.id || !isStaff(person))) return false;
    const ownAcknowledgement = kind === 'ticket_acknowledged';
    if (!ownAcknowledgement && person.id === notice.actorId) return false;
    return wants(person, kind);
  });
}
