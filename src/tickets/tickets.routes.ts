import fs from 'node:fs';
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Knex } from 'knex';
import * as categories from '../categories/categories.repo';
import type { Config } from '../config';
import { AppError, NotFound } from '../http/errors';
import type { Outbox } from '../notifications/outbox';
import { flash } from '../http/flash';
import { requireRole, requireUser, STAFF_ROLES } from '../http/guards';
import { listUrls } from '../http/urls';
import { fieldErrors, fields } from '../http/validate';
import { withFields } from '../objects';
import { SharedCache } from '../shared-cache';
import { csvSeparator, ticketCsvHeader, ticketCsvRow, writeCsv } from './csv';
import {
  COUNT_CAP,
  exportTickets,
  listQueue,
  queueFacets,
  withTsQuery,
  type QueueFacets,
  type QueueFilter,
} from './queue.repo';
import {
  changeSchema,
  createTicketSchema,
  queueQuerySchema,
  replySchema,
  versionOnlySchema,
  type QueueQuery,
} from './tickets.schemas';
import * as service from './tickets.service';
import {
  discard,
  inspectUploads,
  isInline,
  MAX_FILES_PER_SUBMIT,
  storedPath,
  TICKET_TOTAL_FACTOR,
  UploadError,
  uploadMiddleware,
} from './uploads';
import {
  allowedStatuses,
  canEditFields,
  canWriteNote,
  isStaff,
  OPEN_STATUSES,
  PRIORITIES,
  STATUSES,
  type Status,
  type Viewer,
} from './workflow';

interface TicketRouteDeps {
  db: Knex;
  config: Config;
  clock: () => Date;
  outbox: Outbox;
  /** How long the queue's counts and the staff's choices are shared (default five seconds). */
  facetsCacheMs?: number;
}

/**
 * The counts beside the queue's status tabs, its filters' choices and a ticket's choices of
 * category and assignee are the same for every technician looking at the same filters: they
 * are shared for a few seconds, and made again at once after any write of this process (a
 * ticket, a category, a technician).
 */
const QUEUE_FACETS_CACHE_MS = 5_000;

const idParam = fields.id();

function ticketId(req: Request): number {
  const parsed = idParam.safeParse(req.params.id);
  if (!parsed.success) throw new NotFound('tickets.errors.not_found');
  return parsed.data;
}

/** The queue's date filters, each a pair of `<key>_from` / `<key>_to` days. */
const DATE_FILTERS = ['created', 'resolved', 'responded'] as const;

const viewerOf = (req: Request): Viewer => ({ id: req.user!.id, role: req.user!.role });

/**
 * The queue's filters from the query string. Employees keep only the search: their list is
 * always their own tickets, whatever the URL says.
 */
function filterFor(
  viewer: Viewer,
  query: QueueQuery,
  timeZone: string,
): Omit<QueueFilter, 'sort' | 'cursor' | 'statuses'> {
  const staff = isStaff(viewer);
  const range = (from?: string, to?: string) => (staff && (from || to) ? { from, to } : undefined);
  return {
    priority: staff ? query.priority : undefined,
    categoryId: !staff ? undefined : query.category === 'none' ? null : query.category,
    created: range(query.created_from, query.created_to),
    resolved: range(query.resolved_from, query.resolved_to),
    responded: range(query.responded_from, query.responded_to),
    timeZone,
    assigneeId: !staff
      ? undefined
      : query.assignee === 'me'
        ? viewer.id
        : query.assignee === 'none'
          ? null
          : query.assignee,
    requesterId: staff ? query.requester : viewer.id,
    q: query.q || undefined,
    includeNotes: staff,
  };
}

export function ticketRoutes({
  db,
  config,
  clock,
  outbox,
  facetsCacheMs,
}: TicketRouteDeps): Router {
  const router = Router();
  const shared = {
    ttlMs: facetsCacheMs ?? QUEUE_FACETS_CACHE_MS,
    now: () => clock().getTime(),
    staleOnWrite: true,
  };
  const facets = new SharedCache<string, QueueFacets>(shared);
  const fieldOptions = new SharedCache<'staff', categories.QueueFilterOptions>(shared);
  const ctx: service.TicketContext = {
    db,
    clock,
    uploadDir: config.uploadDir,
    maxUploadBytes: config.maxUploadBytes,
    outbox,
  };
  const upload = uploadMiddleware({
    uploadDir: config.uploadDir,
    maxBytes: config.maxUploadBytes,
    field: 'attachments',
  });
  const uploadLimits = {
    maxMb: Math.round(config.maxUploadBytes / 1024 / 1024),
    maxFiles: MAX_FILES_PER_SUBMIT,
    totalMb: Math.round((config.maxUploadBytes * TICKET_TOTAL_FACTOR) / 1024 / 1024),
  };

  router.use(['/tickets', '/attachments'], requireUser);

  async function formLocals(viewer: Viewer) {
    return {
      categories: await categories.listActiveCategories(db),
      staff: isStaff(viewer),
      priorities: PRIORITIES,
      uploadLimits,
    };
  }

  // GET /tickets: an employee's own tickets; for staff, the queue with filters
  router.get('/tickets', async (req, res) => {
    const viewer = viewerOf(req);
    const query = queueQuerySchema.parse(req.query);
    const jump = /^#?(\d{1,15})$/.exec(query.q ?? '');
    if (jump) {
      const id = Number(jump[1]);
      const visible = await service.getTicket(db, viewer, id).then(
        () => true,
        () => false,
      );
      if (visible) return res.redirect(`/tickets/${id}`);
    }
    const staff = isStaff(viewer);
    // Resolved once here, the search is not turned into a tsquery again by each query below.
    const base = await withTsQuery(db, filterFor(viewer, query, config.timeZone));
    const sort = query.sort ?? (base.q ? 'relevance' : 'activity');

    if (!staff && !query.status.length && !base.q) {
      // Employees: open tickets first, then the recently finished ones.
      const [open, done] = await Promise.all([
        listQueue(
          db,
          withFields(base, { statuses: [...OPEN_STATUSES], sort: 'activity' as const }),
        ),
        listQueue(
          db,
          withFields(base, {
            statuses: ['resolved', 'closed'] as Status[],
            sort: 'activity' as const,
          }),
        ),
      ]);
      return res.render('tickets/mine', { open: open.rows, done: done.rows.slice(0, 20), query });
    }

    const filter: QueueFilter = withFields(base, {
      statuses: query.status,
      sort,
      cursor: query.cursor,
    });
    // Counts ignore the status tab, the order and the page: every other field is the key.
    const facetsKey = withFields(filter, {
      statuses: undefined,
      sort: undefined,
      cursor: undefined,
    });
    const [page, choices] = await Promise.all([
      listQueue(db, filter),
      staff
        ? facets.get(JSON.stringify(facetsKey), () => queueFacets(db, filter))
        : Promise.resolve(null),
    ]);
    // The queue's URL with some filters replaced: its tabs, sorts and paging.
    const queueUrl = listUrls('/tickets', withFields(query, { cursor: undefined }));
    res.render('tickets/index', {
      page,
      counts: choices?.counts ?? null,
      countCap: COUNT_CAP,
      query,
      sort,
      staff,
      statuses: STATUSES,
      priorities: PRIORITIES,
      categories: choices?.categories ?? [],
      assignees: choices?.assignees ?? [],
      urlWith: queueUrl,
      dateRanges: DATE_FILTERS.flatMap((key) => {
        const from = query[`${key}_from`];
        const to = query[`${key}_to`];
        if (!from && !to) return [];
        const removeUrl = queueUrl({ [`${key}_from`]: undefined, [`${key}_to`]: undefined });
        return [{ key, from, to, removeUrl }];
      }),
      nextUrl: page.nextCursor ? queueUrl({ cursor: page.nextCursor }) : null,
      firstUrl: query.cursor ? queueUrl({}) : null,
    });
  });

  // GET /tickets.csv: what the queue shows, every page of it, as a spreadsheet (staff only)
  router.get('/tickets.csv', requireRole(...STAFF_ROLES), async (req, res) => {
    const viewer = viewerOf(req);
    const query = queueQuerySchema.parse(req.query);
    const sep = csvSeparator(req.query.sep, req.locale);
    const filter = {
      ...filterFor(viewer, query, config.timeZone),
      statuses: query.status,
      sort: query.sort ?? 'activity',
    };
    const day = clock().toISOString().slice(0, 10);
    res.set({
      'Content-Type': 'text/csv; charset=utf-8',
      'Content-Disposition': `attachment; filename="guichet-tickets-${day}.csv"`,
      'Cache-Control': 'no-store',
    });
    await writeCsv(res, sep, ticketCsvHeader(res.locals.t), async function* () {
      for await (const batch of exportTickets(db, filter)) {
        yield batch.map((row) => ticketCsvRow(row, res.locals.t));
      }
    });
  });

  // GET /tickets/new: the form to file a ticket
  router.get('/tickets/new', async (req, res) => {
    res.render('tickets/new', {
      ...(await formLocals(viewerOf(req))),
      values: { priority: 'normal' },
      errors: {},
    });
  });

  /** Re-renders the create form with what was typed and why it was refused. */
  async function renderCreateForm(
    req: Request,
    res: Response,
    status: number,
    errors: Record<string, string>,
    filesDropped: boolean,
  ) {
    res.status(status).render('tickets/new', {
      ...(await formLocals(viewerOf(req))),
      values: req.body ?? {},
      errors,
      filesDropped,
    });
  }

  // POST /tickets: file a ticket, with attachments
  router.post('/tickets', upload, async (req, res, next) => {
    const files = (req.files as Express.Multer.File[] | undefined) ?? [];
    try {
      if (res.locals.uploadError) throw res.locals.uploadError;
      const parsed = createTicketSchema.safeParse(req.body ?? {});
      if (!parsed.success) {
        await discard(files.map((f) => f.path));
        return renderCreateForm(req, res, 422, fieldErrors(parsed.error), files.length > 0);
      }
      const input = parsed.data;
      const id = await service.createTicket(
        ctx,
        viewerOf(req),
        {
          title: input.title,
          description: input.description,
          priority: input.priority,
          categoryId: input.category_id,
          requesterEmail: input.requester_email,
        },
        await inspectUploads(files),
      );
      flash(req, 'success', 'tickets.flash.created', { id });
      res.redirect(`/tickets/${id}`);
    } catch (err) {
      await discard(files.map((f) => f.path));
      if (err instanceof service.FieldError) {
        return renderCreateForm(req, res, 422, { [err.field]: err.code }, files.length > 0);
      }
      if (err instanceof UploadError) {
        const errors = { attachments: `uploads.errors.${err.problem}` };
        return renderCreateForm(req, res, err.status, errors, true);
      }
      next(err);
    }
  });

  /** Shows a ticket; `extra` carries a form's errors and input when a change was refused. */
  async function renderTicket(
    req: Request,
    res: Response,
    id: number,
    status = 200,
    extra: Record<string, unknown> = {},
  ) {
    const viewer = viewerOf(req);
    const staff = isStaff(viewer);
    const [page, options] = await Promise.all([
      service.getTicketPage(db, viewer, id),
      staff
        ? fieldOptions.get('staff', () => categories.ticketFieldOptions(db))
        : Promise.resolve(null),
    ]);
    res.status(status).render(
      'tickets/show',
      withFields(page, {
        staff,
        categories: options?.categories ?? [],
        assignees: options?.assignees ?? [],
        statuses: STATUSES,
        priorities: PRIORITIES,
        allowedStatuses: allowedStatuses(viewer, page.ticket),
        canEdit: canEditFields(viewer),
        canNote: canWriteNote(viewer),
        uploadLimits,
        replyValues: {},
        replyErrors: {},
        fieldErrors: {},
        ...extra,
      }),
    );
  }

  // GET /tickets/:id: the ticket and its timeline
  router.get('/tickets/:id', async (req, res) => {
    await renderTicket(req, res, ticketId(req));
  });

  /** A stale change: 409 with what changed meanwhile, and the user's text kept. */
  async function renderConflict(req: Request, res: Response, err: service.StaleTicketError) {
    const { ticket, changes } = await service.changesSince(
      db,
      viewerOf(req),
      err.ticketId,
      err.seenVersion,
    );
    res.status(409).render('tickets/conflict', {
      ticket,
      changes,
      kept: { body: req.body?.body ?? '', internal: req.body?.internal === '1' },
      staff: isStaff(viewerOf(req)),
    });
  }

  /** Maps what the services refuse to the page a user should see. */
  async function handleChangeError(
    req: Request,
    res: Response,
    next: NextFunction,
    id: number,
    err: unknown,
    form: 'reply' | 'fields',
  ) {
    if (err instanceof service.StaleTicketError) return renderConflict(req, res, err);
    // A refused field, or a transition not allowed now: the same page, the message by the field.
    const fieldError =
      err instanceof service.FieldError
        ? { field: err.field, code: err.code }
        : err instanceof AppError && err.status === 422
          ? { field: 'status', code: err.code }
          : null;
    if (fieldError) {
      const errors = { [fieldError.field]: fieldError.code };
      return renderTicket(
        req,
        res,
        id,
        422,
        form === 'reply'
          ? { replyValues: req.body ?? {}, replyErrors: errors }
          : { fieldErrors: errors },
      );
    }
    if (err instanceof UploadError) {
      return renderTicket(req, res, id, err.status, {
        replyValues: req.body ?? {},
        replyErrors: { attachments: `uploads.errors.${err.problem}` },
      });
    }
    next(err);
  }

  // POST /tickets/:id/replies: a public reply or an internal note, optionally changing the status
  router.post('/tickets/:id/replies', upload, async (req, res, next) => {
    const id = ticketId(req);
    if (res.locals.uploadError)
      return handleChangeError(req, res, next, id, res.locals.uploadError, 'reply');
    const files = (req.files as Express.Multer.File[] | undefined) ?? [];
    const parsed = replySchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      await discard(files.map((f) => f.path));
      return renderTicket(req, res, id, 422, {
        replyValues: req.body ?? {},
        replyErrors: fieldErrors(parsed.error),
        filesDropped: files.length > 0,
      });
    }
    try {
      const stored = await inspectUploads(files);
      await service.replyToTicket(ctx, viewerOf(req), id, parsed.data, stored);
      flash(
        req,
        'success',
        parsed.data.internal ? 'tickets.flash.note_added' : 'tickets.flash.reply_added',
      );
      res.redirect(`/tickets/${id}#timeline-end`);
    } catch (err) {
      await discard(files.map((f) => f.path));
      await handleChangeError(req, res, next, id, err, 'reply');
    }
  });

  // POST /tickets/:id/status: confirm, reopen, or any transition for staff
  // POST /tickets/:id/fields: status, priority, category, assignee (staff)
  router.post(['/tickets/:id/status', '/tickets/:id/fields'], async (req, res, next) => {
    const id = ticketId(req);
    const parsed = changeSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      return renderTicket(req, res, id, 422, { fieldErrors: fieldErrors(parsed.error) });
    }
    try {
      const { version, status, priority, category_id, assignee_id } = parsed.data;
      const changed = await service.changeTicket(ctx, viewerOf(req), id, {
        version,
        status,
        priority,
        categoryId: category_id,
        assigneeId: assignee_id,
      });
      if (changed)
        flash(
          req,
          'success',
          status === 'closed' && !isStaff(viewerOf(req))
            ? 'tickets.flash.confirmed'
            : 'tickets.flash.updated',
        );
      res.redirect(`/tickets/${id}`);
    } catch (err) {
      await handleChangeError(req, res, next, id, err, 'fields');
    }
  });

  // POST /tickets/:id/take: assign the ticket to me in one click
  router.post('/tickets/:id/take', async (req, res, next) => {
    const id = ticketId(req);
    const parsed = versionOnlySchema.safeParse(req.body ?? {});
    if (!parsed.success) throw new NotFound('tickets.errors.not_found');
    try {
      await service.takeTicket(ctx, viewerOf(req), id, parsed.data.version);
      flash(req, 'success', 'tickets.flash.taken', { id });
      res.redirect(`/tickets/${id}`);
    } catch (err) {
      await handleChangeError(req, res, next, id, err, 'fields');
    }
  });

  // GET /attachments/:id: a file, for those who may see its ticket
  router.get('/attachments/:id', async (req, res) => {
    const parsed = idParam.safeParse(req.params.id);
    if (!parsed.success) throw new NotFound();
    const file = await service.getAttachment(db, viewerOf(req), parsed.data);
    const path = storedPath(config.uploadDir, file.storedName);
    if (!fs.existsSync(path)) throw new NotFound();
    const inline = isInline(file.contentType);
    // res.attachment() guesses a Content-Type from the file name: call it first, then set the
    // type sniffed from the content, so a renamed page never goes out as text/html.
    res.attachment(file.originalName);
    if (inline) {
      res.set(
        'Content-Disposition',
        res.get('Content-Disposition')!.replace(/^attachment/, 'inline'),
      );
    }
    res.set({
      'Content-Type': inline
        ? file.contentType
        : file.contentType === 'text/plain'
          ? 'text/plain; charset=utf-8'
          : 'application/octet-stream',
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
      'Cache-Control': 'private, max-age=3600',
    });
    res.sendFile(path);
  });

  return router;
}
