import type { Knex } from 'knex';
import * as categories from '../categories/categories.repo';
import { AppError, Conflict, Forbidden, InvalidTransition, NotFound } from '../http/errors';
import type { Outbox } from '../notifications/outbox';
import * as users from '../users/users.repo';
import * as attachments from './attachments.repo';
import * as events from './ticket-events.repo';
import * as repo from './tickets.repo';
import {
  commitUploads,
  discard,
  TICKET_TOTAL_FACTOR,
  UploadError,
  type StoredFile,
} from './uploads';
import {
  canChangeStatus,
  canEditFields,
  canSee,
  canWriteNote,
  isFirstResponse,
  isStaff,
  statusAfterRequesterReply,
  timestampsFor,
  type Priority,
  type Status,
  type Viewer,
} from './workflow';

export interface TicketContext {
  db: Knex;
  clock: () => Date;
  uploadDir: string;
  maxUploadBytes: number;
  /** Writes the emails a change causes, in its transaction; none when omitted. */
  outbox?: Outbox;
}

/** A form field the service refused: the route shows the message next to that field. */
export class FieldError extends AppError {
  constructor(
    readonly field: string,
    code: string,
  ) {
    super(422, code);
  }
}

/** The ticket changed since the user loaded the page: show what changed, keep their text. */
export class StaleTicketError extends Conflict {
  constructor(
    readonly ticketId: number,
    readonly seenVersion: number,
  ) {
    super('tickets.conflict.message');
  }
}

/**
 * An attachment for someone who may see its ticket; the files of an internal note only for
 * staff. Everyone else gets the 404 of a missing file.
 */
export async function getAttachment(
  db: Knex,
  viewer: Viewer,
  id: number,
): Promise<attachments.Attachment> {
  const file = await attachments.findAttachment(db, id);
  if (!file) throw new NotFound();
  const ticket = await repo.findTicket(db, file.ticketId);
  if (!ticket || !canSee(viewer, ticket)) throw new NotFound();
  if (file.eventId !== null && !isStaff(viewer) && (await events.isInternal(db, file.eventId))) {
    throw new NotFound();
  }
  return file;
}

/** Loads a ticket the viewer may see; anyone else gets the same 404 as a missing ticket. */
export async function getTicket(db: Knex, viewer: Viewer, id: number): Promise<repo.Ticket> {
  const ticket = await repo.findTicket(db, id);
  if (!ticket || !canSee(viewer, ticket)) throw new NotFound('tickets.errors.not_found');
  return ticket;
}

export type TicketPage = repo.TicketPageData;

/** A ticket's page for a viewer who may see it (404 otherwise), in one query. */
export async function getTicketPage(db: Knex, viewer: Viewer, id: number): Promise<TicketPage> {
  const page = await repo.findTicketPage(db, id, isStaff(viewer));
  if (!page || !canSee(viewer, page.ticket)) throw new NotFound('tickets.errors.not_found');
  const visibleEvents = new Set(page.timeline.map((e) => e.id));
  // Files of an internal note stay internal.
  page.attachments = page.attachments.filter(
    (f) => f.eventId === null || visibleEvents.has(f.eventId),
  );
  return page;
}

/**
 * Runs `work` in a transaction and makes its uploads permanent with it: files are moved into
 * place inside the transaction and removed again if anything fails, so there is never a
 * ticket without its files nor a file without its ticket.
 */
async function withUploads<T>(
  ctx: TicketContext,
  files: StoredFile[],
  work: (trx: Knex.Transaction) => Promise<T>,
): Promise<T> {
  try {
    return await ctx.db.transaction(async (trx) => {
      const result = await work(trx);
      await commitUploads(ctx.uploadDir, files);
      return result;
    });
  } catch (err) {
    await discard(files.map((f) => f.path));
    throw err;
  }
}

async function assertTotalUploads(
  trx: Knex.Transaction,
  ctx: TicketContext,
  ticketId: number | null,
  files: StoredFile[],
): Promise<void> {
  const adding = files.reduce((n, f) => n + f.sizeBytes, 0);
  if (!adding) return;
  const existing = ticketId
    ? Number(
        (await trx('attachments').where({ ticket_id: ticketId }).sum('size_bytes as n').first())
          ?.n ?? 0,
      )
    : 0;
  if (existing + adding > ctx.maxUploadBytes * TICKET_TOTAL_FACTOR) {
    throw new UploadError('total_too_large');
  }
}

async function insertFiles(
  trx: Knex.Transaction,
  ticketId: number,
  eventId: number,
  uploaderId: number,
  files: StoredFile[],
): Promise<void> {
  await attachments.insertAttachments(
    trx,
    files.map((f) => ({
      ticketId,
      eventId,
      uploaderId,
      originalName: f.originalName,
      storedName: f.storedName,
      contentType: f.contentType,
      sizeBytes: f.sizeBytes,
      sha256: f.sha256,
    })),
  );
}

export interface CreateInput {
  title: string;
  description: string;
  priority: Priority;
  categoryId?: number;
  /** Staff filing on behalf of someone, named by email address. */
  requesterEmail?: string;
}

export async function createTicket(
  ctx: TicketContext,
  actor: Viewer,
  input: CreateInput,
  files: StoredFile[],
): Promise<number> {
  const now = ctx.clock();
  return withUploads(ctx, files, async (trx) => {
    let requesterId = actor.id;
    if (input.requesterEmail !== undefined) {
      if (!isStaff(actor)) throw new Forbidden();
      const requester = await users.findByEmail(trx, input.requesterEmail);
      if (!requester || !requester.active) {
        throw new FieldError('requester_email', 'tickets.errors.requester_invalid');
      }
      requesterId = requester.id;
    }
    let assigneeId: number | null = null;
    if (input.categoryId !== undefined) {
      const category = await categories.findCategory(trx, input.categoryId);
      if (!category || !category.active) {
        throw new FieldError('category_id', 'tickets.errors.category_invalid');
      }
      if (
        category.defaultAssigneeId &&
        (await categories.isAssignable(trx, category.defaultAssigneeId))
      ) {
        assigneeId = category.defaultAssigneeId;
      }
    }
    await assertTotalUploads(trx, ctx, null, files);
    const id = await repo.insertTicket(trx, {
      title: input.title,
      description: input.description,
      priority: input.priority,
      categoryId: input.categoryId ?? null,
      requesterId,
      assigneeId,
      createdById: actor.id,
      now,
    });
    const eventId = await events.insertEvent(trx, {
      ticketId: id,
      actorId: actor.id,
      type: 'ticket.created',
      ticketVersion: 1,
      now,
    });
    if (assigneeId) {
      await events.insertEvent(trx, {
        ticketId: id,
        actorId: null,
        type: 'ticket.assigned',
        toValue: assigneeId,
        ticketVersion: 1,
        now,
      });
    }
    await insertFiles(trx, id, eventId, actor.id, files);
    await ctx.outbox?.notifyTicket(
      trx,
      id,
      { type: 'created', actorId: actor.id },
      {
        fileNames: files.map((f) => f.originalName),
      },
    );
    return id;
  });
}

/** Locks the ticket and checks the viewer may act on it and saw its current version. */
async function lockForChange(
  trx: Knex.Transaction,
  actor: Viewer,
  id: number,
  seenVersion: number,
): Promise<repo.Ticket> {
  const ticket = await repo.lockTicket(trx, id);
  if (!ticket || !canSee(actor, ticket)) throw new NotFound('tickets.errors.not_found');
  if (ticket.version !== seenVersion) throw new StaleTicketError(id, seenVersion);
  return ticket;
}

type Changes = repo.TicketChanges & { events: Omit<events.NewEvent, 'ticketVersion' | 'now'>[] };

/** What a status transition writes: the new status, its timestamps and the timeline entry. */
function statusChange(actor: Viewer | null, ticket: repo.Ticket, to: Status, now: Date): Changes {
  return {
    status: to,
    ...timestampsFor(to, now),
    events: [
      {
        ticketId: ticket.id,
        actorId: actor?.id ?? null,
        type: 'ticket.status_changed',
        fromValue: ticket.status,
        toValue: to,
      },
    ],
  };
}

async function apply(
  trx: Knex.Transaction,
  ticket: repo.Ticket,
  changes: Changes,
  now: Date,
): Promise<number[]> {
  const { events: list, ...fields } = changes;
  const version = await repo.updateTicket(trx, ticket.id, fields, now);
  const ids: number[] = [];
  for (const e of list)
    ids.push(await events.insertEvent(trx, { ...e, ticketVersion: version, now }));
  return ids;
}

export interface ChangeInput {
  version: number;
  status?: Status;
  priority?: Priority;
  /** null clears the category / the assignee. */
  categoryId?: number | null;
  assigneeId?: number | null;
}

/**
 * Changes status, priority, category or assignee in one go. Staff may change everything;
 * a requester may only confirm (resolved → closed) or reopen (resolved → in_progress).
 * Returns whether anything changed.
 */
export async function changeTicket(
  ctx: TicketContext,
  actor: Viewer,
  id: number,
  input: ChangeInput,
): Promise<boolean> {
  const now = ctx.clock();
  return ctx.db.transaction(async (trx) => {
    const ticket = await lockForChange(trx, actor, id, input.version);
    const changes: Changes = { events: [] };
    type Value = string | number | null;
    const recordChange = (type: events.EventType, fromValue: Value, toValue: Value) =>
      changes.events.push({ ticketId: id, actorId: actor.id, type, fromValue, toValue });
    const fieldEdit =
      (input.priority !== undefined && input.priority !== ticket.priority) ||
      (input.categoryId !== undefined && input.categoryId !== ticket.categoryId) ||
      (input.assigneeId !== undefined && input.assigneeId !== ticket.assigneeId);
    if (fieldEdit && !canEditFields(actor)) throw new Forbidden();

    if (input.status !== undefined && input.status !== ticket.status) {
      if (!canChangeStatus(actor, ticket, input.status)) {
        // Employees may not change statuses at all, beyond confirm/reopen: that is a refusal.
        throw isStaff(actor) ? new InvalidTransition() : new Forbidden();
      }
      const s = statusChange(actor, ticket, input.status, now);
      Object.assign(changes, { ...s, events: changes.events.concat(s.events) });
    }
    if (input.priority !== undefined && input.priority !== ticket.priority) {
      changes.priority = input.priority;
      recordChange('ticket.priority_changed', ticket.priority, input.priority);
    }
    if (input.categoryId !== undefined && input.categoryId !== ticket.categoryId) {
      if (input.categoryId !== null) {
        const category = await categories.findCategory(trx, input.categoryId);
        // A deactivated category stays on old tickets but is not chosen anew.
        if (!category || !category.active) {
          throw new FieldError('category_id', 'tickets.errors.category_invalid');
        }
      }
      changes.categoryId = input.categoryId;
      recordChange('ticket.category_changed', ticket.categoryId, input.categoryId);
    }
    if (input.assigneeId !== undefined && input.assigneeId !== ticket.assigneeId) {
      if (input.assigneeId !== null && !(await categories.isAssignable(trx, input.assigneeId))) {
        throw new FieldError('assignee_id', 'tickets.errors.assignee_invalid');
      }
      changes.assigneeId = input.assigneeId;
      recordChange('ticket.assigned', ticket.assigneeId, input.assigneeId);
    }
    if (!changes.events.length) return false;
    await apply(trx, ticket, changes, now);
    if (changes.assigneeId) {
      await ctx.outbox?.notifyTicket(trx, id, {
        type: 'assigned',
        actorId: actor.id,
        assigneeId: changes.assigneeId,
      });
    }
    if (changes.status) {
      await ctx.outbox?.notifyTicket(trx, id, {
        type: 'status',
        actorId: actor.id,
        to: changes.status,
      });
    }
    return true;
  });
}

/** "Take it": assign to me. Two technicians at once: one wins, the other sees a conflict. */
export function takeTicket(
  ctx: TicketContext,
  actor: Viewer,
  id: number,
  version: number,
): Promise<boolean> {
  // Visibility (404) is checked before the role (403), as for every other change.
  return changeTicket(ctx, actor, id, { version, assigneeId: actor.id });
}

export interface ReplyInput {
  version: number;
  body: string;
  internal: boolean;
  /** Staff may change the status in the same submit; a requester may reopen a resolved ticket. */
  status?: Status;
}

export async function replyToTicket(
  ctx: TicketContext,
  actor: Viewer,
  id: number,
  input: ReplyInput,
  files: StoredFile[],
): Promise<void> {
  const now = ctx.clock();
  await withUploads(ctx, files, async (trx) => {
    const ticket = await lockForChange(trx, actor, id, input.version);
    if (input.internal && !canWriteNote(actor)) throw new Forbidden();
    await assertTotalUploads(trx, ctx, id, files);
    const changes: Changes = {
      events: [
        {
          ticketId: id,
          actorId: actor.id,
          type: input.internal ? 'note.added' : 'comment.added',
          internal: input.internal,
          body: input.body,
        },
      ],
    };
    if (input.internal) changes.noteText = input.body;
    else changes.publicText = input.body;
    if (isFirstResponse(actor, ticket, input.internal)) changes.firstResponseAt = now;

    let target: Status | undefined;
    if (input.status !== undefined) {
      if (input.status !== ticket.status && !canChangeStatus(actor, ticket, input.status)) {
        throw isStaff(actor) ? new InvalidTransition() : new Forbidden();
      }
      target = input.status;
    } else if (!isStaff(actor)) {
      // The requester answered: a ticket waiting on them or resolved is back in progress.
      target = statusAfterRequesterReply(ticket.status);
    }
    if (target !== undefined && target !== ticket.status) {
      const s = statusChange(actor, ticket, target, now);
      Object.assign(changes, { ...s, events: changes.events.concat(s.events) });
    }
    const [eventId] = await apply(trx, ticket, changes, now);
    await insertFiles(trx, id, eventId, actor.id, files);
    const extra = { body: input.body, fileNames: files.map((f) => f.originalName) };
    if (input.internal) {
      await ctx.outbox?.notifyTicket(trx, id, { type: 'note', actorId: actor.id }, extra);
      // The note stays internal, but the requester still hears that the status changed.
      if (changes.status) {
        await ctx.outbox?.notifyTicket(trx, id, {
          type: 'status',
          actorId: actor.id,
          to: changes.status,
        });
      }
    } else {
      await ctx.outbox?.notifyTicket(
        trx,
        id,
        { type: 'reply', actorId: actor.id, toStatus: changes.status },
        extra,
      );
    }
  });
}

/** Changes since the version a user saw, for the conflict page (notes only for staff). */
export async function changesSince(
  db: Knex,
  viewer: Viewer,
  id: number,
  seenVersion: number,
): Promise<{ ticket: repo.Ticket; changes: events.TicketEvent[] }> {
  const ticket = await getTicket(db, viewer, id);
  const changes = await events.listEvents(db, id, {
    includeInternal: isStaff(viewer),
    sinceVersion: seenVersion,
  });
  return { ticket, changes };
}

/**
 * Closes resolved tickets older than AUTO_CLOSE_DAYS, each in its own transaction, recorded
 * in the timeline as done by the system. Returns the ids closed.
 */
export async function autoCloseResolved(
  db: Knex,
  now: Date,
  autoCloseDays: number,
  outbox?: Outbox,
  batch = 200,
): Promise<number[]> {
  const cutoff = new Date(now.getTime() - autoCloseDays * 24 * 3600 * 1000);
  const closed: number[] = [];
  for (const id of await repo.dueForAutoClose(db, cutoff, batch)) {
    await db.transaction(async (trx) => {
      const ticket = await repo.lockTicket(trx, id);
      // Reopened or changed meanwhile: leave it.
      if (
        !ticket ||
        ticket.status !== 'resolved' ||
        !ticket.resolvedAt ||
        ticket.resolvedAt > cutoff
      )
        return;
      await apply(trx, ticket, statusChange(null, ticket, 'closed', now), now);
      await outbox?.notifyTicket(trx, id, { type: 'status', actorId: null, to: 'closed' });
      closed.push(id);
    });
  }
  return closed;
}
