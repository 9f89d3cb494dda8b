/**
 * The ticket rules of DESIGN.md §7, as pure functions: the services enforce them, the views
 * only use them to decide which buttons to show.
 */
import type { Role } from '../users/users.repo';

export const STATUSES = ['new', 'in_progress', 'waiting', 'resolved', 'closed'] as const;
export type Status = (typeof STATUSES)[number];

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const OPEN_STATUSES: readonly Status[] = ['new', 'in_progress', 'waiting'];

export interface Viewer {
  id: number;
  role: Role;
}

export interface TicketFacts {
  requesterId: number;
  status: Status;
}

export const isStaff = (v: Pick<Viewer, 'role'>): boolean =>
  v.role === 'technician' || v.role === 'admin';

/** Employees see only their own tickets; staff see all. */
export function canSee(v: Viewer, t: Pick<TicketFacts, 'requesterId'>): boolean {
  return isStaff(v) || t.requesterId === v.id;
}

/** Public replies: staff on any ticket, the requester on their own. */
export function canReply(v: Viewer, t: TicketFacts): boolean {
  return canSee(v, t);
}

export function canWriteNote(v: Viewer): boolean {
  return isStaff(v);
}

/** Priority, category and assignee: staff only, after creation. */
export function canEditFields(v: Viewer): boolean {
  return isStaff(v);
}

/**
 * Staff may make any transition; a requester may only confirm a resolved ticket (→ closed)
 * or say it is still a problem (→ in_progress).
 */
export function canChangeStatus(v: Viewer, t: TicketFacts, to: Status): boolean {
  if (t.status === to) return false;
  if (isStaff(v)) return true;
  return (
    t.requesterId === v.id && t.status === 'resolved' && (to === 'closed' || to === 'in_progress')
  );
}

/** The transitions a viewer may choose from the ticket page. */
export function allowedStatuses(v: Viewer, t: TicketFacts): Status[] {
  return STATUSES.filter((s) => canChangeStatus(v, t, s));
}

/** A requester's reply on a ticket waiting for them or resolved puts it back in progress. */
export function statusAfterRequesterReply(current: Status): Status {
  return current === 'waiting' || current === 'resolved' ? 'in_progress' : current;
}

export interface StatusTimestamps {
  resolvedAt?: Date | null;
  closedAt?: Date | null;
}

/**
 * What a transition does to the dashboard's timestamps: resolving stamps resolved_at (and the
 * auto-close delay counts from it); reopening clears both stamps.
 */
export function timestampsFor(to: Status, now: Date): StatusTimestamps {
  switch (to) {
    case 'resolved':
      return { resolvedAt: now, closedAt: null };
    case 'closed':
      return { closedAt: now };
    default:
      return { resolvedAt: null, closedAt: null };
  }
}

/** Whether a resolved ticket is due to close by itself. */
export function isDueForAutoClose(
  t: { status: Status; resolvedAt: Date | null },
  now: Date,
  autoCloseDays: number,
): boolean {
  if (t.status !== 'resolved' || !t.resolvedAt) return false;
  return now.getTime() - t.resolvedAt.getTime() >= autoCloseDays * 24 * 3600 * 1000;
}

/** The first public reply by staff counts as the first response. */
export function isFirstResponse(
  v: Viewer,
  t: TicketFacts & { firstResponseAt: Date | null },
  internal: boolean,
): boolean {
  return !internal && isStaff(v) && t.requesterId !== v.id && t.firstResponseAt === null;
}
