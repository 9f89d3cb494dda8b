import { Router, type Request, type Response } from 'express';
import type { Knex } from 'knex';
import type { Config } from '../config';
import { NotFound } from '../http/errors';
import { flash } from '../http/flash';
import { requireRole, safeReturnTo } from '../http/guards';
import { fieldErrors, fields } from '../http/validate';
import { listUrl } from '../http/urls';
import type { Logger } from '../logger';
import { retryNotification } from '../notifications/delivery';
import { createMailer, type Mailer } from '../notifications/mailer';
import * as repo from '../notifications/outbox.repo';
import {
  outboxFilterSchema,
  returnToSchema,
  testEmailSchema,
  type OutboxQuery,
} from './outbox.schemas';
import { sendTestEmail } from './outbox.service';

const idParam = fields.id();

export interface OutboxRouteDeps {
  db: Knex;
  config: Config;
  logger: Logger;
  /** The app's mailer; without one, a mailer is built from the config on first use. */
  mailer?: Mailer;
}

const outboxUrl = (query: OutboxQuery, over: Partial<OutboxQuery>): string =>
  listUrl('/admin/outbox', { ...query, before: undefined, ...over });

/** Back to the list or the email the button was on; never anywhere else. */
function backTo(req: Request): string {
  const parsed = returnToSchema.safeParse(req.body ?? {});
  const target = safeReturnTo(parsed.success ? parsed.data.returnTo : undefined);
  return /^\/admin\/outbox(\/\d+)?([?#]|$)/.test(target) ? target : '/admin/outbox';
}

export function adminOutboxRoutes(deps: OutboxRouteDeps): Router {
  const { db, config, logger } = deps;
  const router = Router();
  router.use('/admin/outbox', requireRole('admin'));

  let ownMailer: Mailer | null = null;
  const mailer = (): Mailer => deps.mailer ?? (ownMailer ??= createMailer(config, logger));

  async function renderIndex(
    req: Request,
    res: Response,
    test: { values: Record<string, unknown>; errors: Record<string, string> },
    status = 200,
  ) {
    const query = outboxFilterSchema.parse(req.query);
    const filter = {
      status: query.status,
      q: query.q,
      ticketId: query.ticket,
      before: query.before,
    };
    const [page, counts] = await Promise.all([
      repo.listOutbox(db, filter),
      repo.countOutboxByStatus(db, filter),
    ]);
    res.status(status).render('admin/outbox/index', {
      page,
      counts,
      countCap: repo.OUTBOX_COUNT_CAP,
      statuses: repo.NOTIFICATION_STATUSES,
      query,
      transport: mailer().describe(),
      testValues: test.values,
      testErrors: test.errors,
      urlWith: (over: Partial<OutboxQuery>) => outboxUrl(query, over),
      nextUrl: page.nextBefore ? outboxUrl(query, { before: page.nextBefore }) : null,
      firstUrl: query.before ? outboxUrl(query, {}) : null,
    });
  }

  // GET /admin/outbox: every email, newest first, with filters, status tabs and the test form
  router.get('/admin/outbox', async (req, res) => {
    await renderIndex(req, res, { values: { to: req.user!.email }, errors: {} });
  });

  // POST /admin/outbox/test: send a test email now and say what the server answered
  router.post('/admin/outbox/test', async (req, res) => {
    const parsed = testEmailSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      return renderIndex(
        req,
        res,
        { values: req.body ?? {}, errors: fieldErrors(parsed.error) },
        422,
      );
    }
    const result = await sendTestEmail(
      { mailer: mailer(), config, logger },
      { to: parsed.data.to, locale: req.locale, requestedBy: { id: req.user!.id } },
    );
    if (result.ok) {
      flash(req, 'success', 'outbox.test.sent', { to: parsed.data.to, response: result.response });
    } else {
      flash(req, 'error', 'outbox.test.failed', { to: parsed.data.to, error: result.error });
      if (result.hint) flash(req, 'info', result.hint.key, result.hint.params);
    }
    res.redirect('/admin/outbox#test-email');
  });

  // GET /admin/outbox/:id: one email, its headers, its delivery history and its text
  router.get('/admin/outbox/:id', async (req, res) => {
    const id = idParam.safeParse(req.params.id);
    const email = id.success ? await repo.findOutboxEmail(db, id.data) : null;
    if (!email) throw new NotFound();
    res.render('admin/outbox/show', { email });
  });

  // POST /admin/outbox/:id/retry: put a failed (or sent) email back in the queue
  router.post('/admin/outbox/:id/retry', async (req, res) => {
    const id = idParam.safeParse(req.params.id);
    const email = id.success ? await repo.findOutboxEmail(db, id.data) : null;
    if (!email) throw new NotFound();
    if (await retryNotification(db, email.id)) {
      flash(req, 'success', 'outbox.flash.requeued', { id: email.id, to: email.toEmail });
    } else {
      flash(req, 'info', 'outbox.flash.not_retryable', { id: email.id });
    }
    res.redirect(backTo(req));
  });

  return router;
}
