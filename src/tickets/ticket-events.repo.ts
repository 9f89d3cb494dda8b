import type { Knex } from 'knex';
import { prepared } from '../db/prepared';

type Db = Knex | Knex.Transaction;

export const EVENT_TYPES = [
  'ticket.created',
  'comment.added',
  'note.added',
  'ticket.status_changed',
  'ticket.priority_changed',
  'ticket.category_changed',
  'ticket.assigned',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface TicketEvent {
  id: number;
  ticketId: number;
  actorId: number | null;
  actorName: string | null;
  type: EventType;
  internal: boolean;
  body: string | null;
  fromValue: string | null;
  toValue: string | null;
  /** The names of the user or category that fromValue and toValue refer to, if any. */
  fromName: string | null;
  toName: string | null;
  ticketVersion: number;
  createdAt: Date;
}

export interface EventRow {
  id: number;
  ticket_id: number;
  actor_id: number | null;
  actor_name: string | null;
  type: EventType;
  internal: boolean;
  body: string | null;
  from_value: string | null;
  to_value: string | null;
  from_name: string | null;
  to_name: string | null;
  ticket_version: number;
  /** A Date from a row, milliseconds from a JSON document (ticketPage). */
  created_at: Date | number;
}

/** The name a from/to value refers to: a user for an assignment, a category for its change. */
const nameOf = (value: string) => `case e.type
    when 'ticket.assigned' then (select u.name from users u where u.id = ${value}::bigint)
    when 'ticket.category_changed' then (select c.name from categories c where c.id = ${value}::bigint)
  end`;

/**
 * An event's columns (EventRow) on `ticket_events as e`, `createdAt` the expression of its
 * date: the column itself for rows, epochMs for a JSON document.
 */
export const eventColumns = (createdAt: string) =>
  `e.id, e.ticket_id, e.actor_id, e.type, e.internal, e.body, e.from_value, e.to_value,
   ${nameOf('e.from_value')} as from_name, ${nameOf('e.to_value')} as to_name,
   e.ticket_version, ${createdAt} as created_at,
   (select u.name from users u where u.id = e.actor_id) as actor_name`;

export const toEvent = (r: EventRow): TicketEvent => ({
  id: r.id,
  ticketId: r.ticket_id,
  actorId: r.actor_id,
  actorName: r.actor_name,
  type: r.type,
  internal: r.internal,
  body: r.body,
  fromValue: r.from_value,
  toValue: r.to_value,
  fromName: r.from_name,
  toName: r.to_name,
  ticketVersion: r.ticket_version,
  createdAt: new Date(r.created_at),
});

export interface NewEvent {
  ticketId: number;
  actorId: number | null;
  type: EventType;
  internal?: boolean;
  body?: string | null;
  fromValue?: string | number | null;
  toValue?: string | number | null;
  ticketVersion: number;
  now: Date;
}

export async function insertEvent(db: Db, e: NewEvent): Promise<number> {
  const [row] = await db('ticket_events')
    .insert({
      ticket_id: e.ticketId,
      actor_id: e.actorId,
      type: e.type,
      internal: e.internal ?? false,
      body: e.body ?? null,
      from_value: e.fromValue === undefined || e.fromValue === null ? null : String(e.fromValue),
      to_value: e.toValue === undefined || e.toValue === null ? null : String(e.toValue),
      ticket_version: e.ticketVersion,
      created_at: e.now,
    })
    .returning('id');
  return row.id;
}

/** The timeline, oldest first; internal notes only when asked (staff). */
export async function listEvents(
  db: Db,
  ticketId: number,
  opts: { includeInternal: boolean; sinceVersion?: number },
): Promise<TicketEvent[]> {
  const result = await prepared(
    db,
    `select ${eventColumns('e.created_at')}
       from ticket_events e
      where e.ticket_id = ?${opts.includeInternal ? '' : ' and not e.internal'}${
        opts.sinceVersion === undefined ? '' : ' and e.ticket_version > ?'
      }
      order by e.id`,
    opts.sinceVersion === undefined ? [ticketId] : [ticketId, opts.sinceVersion],
  );
  return (result.rows as EventRow[]).map(toEvent);
}

export async function isInternal(db: Db, eventId: number): Promise<boolean> {
  const row = await db('ticket_events').where({ id: eventId }).first('internal');
  return row?.internal === true;
}
