import type { Knex } from 'knex';
import { prepared } from '../db/prepared';
import { epochMs } from '../db/sql';
import { sharedDataChanged } from '../shared-cache';
import { toAttachment, type Attachment, type AttachmentRow } from './attachments.repo';
import { eventColumns, toEvent, type EventRow, type TicketEvent } from './ticket-events.repo';
import type { Priority, Status } from './workflow';

type Db = Knex | Knex.Transaction;

export interface Ticket {
  id: number;
  title: string;
  description: string;
  status: Status;
  priority: Priority;
  categoryId: number | null;
  categoryName: string | null;
  requesterId: number;
  requesterName: string;
  requesterEmail: string;
  assigneeId: number | null;
  assigneeName: string | null;
  createdById: number;
  version: number;
  createdAt: Date;
  updatedAt: Date;
  lastActivityAt: Date;
  firstResponseAt: Date | null;
  resolvedAt: Date | null;
  closedAt: Date | null;
}

interface TicketRow {
  id: number;
  title: string;
  description: string;
  status: Status;
  priority: Priority;
  category_id: number | null;
  category_name: string | null;
  requester_id: number;
  requester_name: string;
  requester_email: string;
  assignee_id: number | null;
  assignee_name: string | null;
  created_by_id: number;
  version: number;
  created_at: Date;
  updated_at: Date;
  last_activity_at: Date;
  first_response_at: Date | null;
  resolved_at: Date | null;
  closed_at: Date | null;
}

const toTicket = (r: TicketRow): Ticket => ({
  id: r.id,
  title: r.title,
  description: r.description,
  status: r.status,
  priority: r.priority,
  categoryId: r.category_id,
  categoryName: r.category_name,
  requesterId: r.requester_id,
  requesterName: r.requester_name,
  requesterEmail: r.requester_email,
  assigneeId: r.assignee_id,
  assigneeName: r.assignee_name,
  createdById: r.created_by_id,
  version: r.version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  lastActivityAt: r.last_activity_at,
  firstResponseAt: r.first_response_at,
  resolvedAt: r.resolved_at,
  closedAt: r.closed_at,
});

/**
 * Joins the names a ticket is shown with: category `c`, requester `r`, assignee `a`. For reads
 * of many tickets at once (the CSV export's batches); a ticket's page uses NAME_COLUMNS, lists
 * of tickets names.repo.ts.
 */
export function joinNames(q: Knex.QueryBuilder): Knex.QueryBuilder {
  return q
    .leftJoin('categories as c', 'c.id', 't.category_id')
    .join('users as r', 'r.id', 't.requester_id')
    .leftJoin('users as a', 'a.id', 't.assignee_id');
}

/**
 * The names a ticket is shown with (`category_name`, `requester_name`, `assignee_name`) on
 * `tickets as t`, from scalar subqueries rather than joins: the planner weighs three joins'
 * orders on every query (a quarter to half a millisecond each time), and one ticket's lookups
 * by key cost it next to nothing.
 */
const NAME_COLUMNS = `
  (select c.name from categories c where c.id = t.category_id) as category_name,
  (select r.name from users r where r.id = t.requester_id) as requester_name,
  (select a.name from users a where a.id = t.assignee_id) as assignee_name`;

/** A ticket's columns with its names, on `tickets as t`. */
const TICKET_COLUMNS = `t.id, t.title, t.description, t.status, t.priority, t.category_id,
  t.requester_id, t.assignee_id, ${NAME_COLUMNS},
  (select r.email from users r where r.id = t.requester_id) as requester_email,
  t.created_by_id, t.version, t.created_at, t.updated_at, t.last_activity_at,
  t.first_response_at, t.resolved_at, t.closed_at`;

function ticketQuery(db: Db) {
  return db('tickets as t').select(db.raw(TICKET_COLUMNS));
}

/** One ticket, read on every ticket page and change: plain SQL, without a query builder. */
export async function findTicket(db: Db, id: number): Promise<Ticket | null> {
  const result = await prepared(db, `select ${TICKET_COLUMNS} from tickets t where t.id = ?`, [id]);
  const row = result.rows[0] as TicketRow | undefined;
  return row ? toTicket(row) : null;
}

/** Locks the ticket row for the rest of the transaction (changes, replies, take). */
export async function lockTicket(trx: Knex.Transaction, id: number): Promise<Ticket | null> {
  const locked = await trx('tickets').where({ id }).forUpdate().first('id');
  return locked ? findTicket(trx, id) : null;
}

export interface NewTicket {
  title: string;
  description: string;
  priority: Priority;
  categoryId: number | null;
  requesterId: number;
  assigneeId: number | null;
  createdById: number;
  now: Date;
}

export async function insertTicket(db: Db, t: NewTicket): Promise<number> {
  const [row] = await db('tickets')
    .insert({
      title: t.title,
      description: t.description,
      priority: t.priority,
      category_id: t.categoryId,
      requester_id: t.requesterId,
      assignee_id: t.assigneeId,
      created_by_id: t.createdById,
      created_at: t.now,
      updated_at: t.now,
      last_activity_at: t.now,
      search_vector: db.raw(`guichet_tsv(?, 'A') || guichet_tsv(?, 'B')`, [t.title, t.description]),
    })
    .returning('id');
  sharedDataChanged(db);
  return row.id;
}

export interface TicketChanges {
  status?: Status;
  priority?: Priority;
  categoryId?: number | null;
  assigneeId?: number | null;
  firstResponseAt?: Date;
  resolvedAt?: Date | null;
  closedAt?: Date | null;
  /** Text to add to the search index: public replies for everyone, notes for staff. */
  publicText?: string;
  noteText?: string;
}

/** Applies changes, bumps the version and the activity time; returns the new version. */
export async function updateTicket(
  db: Db,
  id: number,
  c: TicketChanges,
  now: Date,
): Promise<number> {
  const patch: Record<string, unknown> = {
    updated_at: now,
    last_activity_at: now,
    version: db.raw('version + 1'),
  };
  if (c.status !== undefined) patch.status = c.status;
  if (c.priority !== undefined) patch.priority = c.priority;
  if (c.categoryId !== undefined) patch.category_id = c.categoryId;
  if (c.assigneeId !== undefined) patch.assignee_id = c.assigneeId;
  if (c.firstResponseAt !== undefined) patch.first_response_at = c.firstResponseAt;
  if (c.resolvedAt !== undefined) patch.resolved_at = c.resolvedAt;
  if (c.closedAt !== undefined) patch.closed_at = c.closedAt;
  if (c.publicText)
    patch.search_vector = db.raw(`search_vector || guichet_tsv(?, 'C')`, [c.publicText]);
  if (c.noteText) patch.notes_vector = db.raw(`notes_vector || guichet_tsv(?, 'C')`, [c.noteText]);
  const [row] = await db('tickets').where({ id }).update(patch).returning('version');
  sharedDataChanged(db);
  return row.version;
}

/** Resolved tickets whose resolution is older than the cut-off, oldest first. */
export async function dueForAutoClose(db: Db, cutoff: Date, limit: number): Promise<number[]> {
  const rows = await db('tickets')
    .where('status', 'resolved')
    .where('resolved_at', '<=', cutoff)
    .orderBy('resolved_at')
    .limit(limit)
    .select('id');
  return rows.map((r) => r.id);
}

/** One of the requester's other open tickets, in the side panel of the staff ticket page. */
export type OtherTicket = Pick<Ticket, 'id' | 'title' | 'status' | 'priority' | 'lastActivityAt'>;

export interface TicketPageData {
  ticket: Ticket;
  /** Oldest first; internal notes only for staff. */
  timeline: TicketEvent[];
  /** All the ticket's files, internal notes' included. */
  attachments: Attachment[];
  /** The requester's ten most recently active other open tickets; for staff only. */
  others: OtherTicket[];
}

const json = (rows: string) => `coalesce((select json_agg(x) from (${rows}) x), '[]')`;

/**
 * Everything a ticket page shows, in one statement: the ticket, its timeline, its files and,
 * for staff, the requester's other open tickets, the lists as JSON documents. Each query is a
 * round trip and a write to PostgreSQL's socket for the server's main thread, which limits its
 * throughput: four of them made the ticket page the slowest page to serve after the search.
 */
const TICKET_PAGE = `select ${TICKET_COLUMNS},
    ${json(`select ${eventColumns(epochMs('e.created_at'))}
       from ticket_events e where e.ticket_id = t.id and (? or not e.internal) order by e.id`)} as timeline,
    ${json(`select a.id, a.ticket_id, a.event_id, a.uploader_id, a.original_name, a.stored_name,
              a.content_type, a.size_bytes, a.sha256, ${epochMs('a.created_at')} as created_at
       from attachments a where a.ticket_id = t.id order by a.id`)} as attachments,
    case when ? then ${json(`select o.id, o.title, o.status, o.priority,
              ${epochMs('o.last_activity_at')} as last_activity_at
       from tickets o
      where o.requester_id = t.requester_id and o.id <> t.id
        and o.status in ('new', 'in_progress', 'waiting')
      order by o.last_activity_at desc, o.id desc limit 10`)} else '[]' end as others
  from tickets t where t.id = ?`;

export async function findTicketPage(
  db: Db,
  id: number,
  staff: boolean,
): Promise<TicketPageData | null> {
  const result = await prepared(db, TICKET_PAGE, [staff, staff, id]);
  const row = result.rows[0] as
    | (TicketRow & {
        timeline: EventRow[];
        attachments: AttachmentRow[];
        others: (Pick<TicketRow, 'id' | 'title' | 'status' | 'priority'> & {
          last_activity_at: number;
        })[];
      })
    | undefined;
  if (!row) return null;
  return {
    ticket: toTicket(row),
    timeline: row.timeline.map(toEvent),
    attachments: row.attachments.map(toAttachment),
    others: row.others.map((o) => ({
      id: o.id,
      title: o.title,
      status: o.status,
      priority: o.priority,
      lastActivityAt: new Date(o.last_activity_at),
    })),
  };
}

export { toTicket, ticketQuery, type TicketRow };
