import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../logger';
import { AppError, isDatabaseUnavailable, NotFound, TooManyRequests } from './errors';
import { safeReturnTo } from './guards';

const PAGES = new Set([400, 403, 404, 409, 413, 422, 429, 500, 503]);

export function notFound(_req: Request, _res: Response, next: NextFunction): void {
  next(new NotFound());
}

interface Classified {
  status: number;
  code: string;
  params?: Record<string, unknown>;
}

function classify(err: unknown): Classified {
  if (err instanceof AppError) return { status: err.status, code: err.code, params: err.details };
  const e = err as { code?: string; type?: string; status?: number; statusCode?: number };
  if (e?.code === 'EBADCSRFTOKEN') return { status: 403, code: 'errors.csrf' };
  if (e?.type === 'entity.too.large') return { status: 413, code: 'errors.too_large' };
  if (e?.type === 'entity.parse.failed' || e?.type === 'parameters.too.many')
    return { status: 400, code: 'errors.bad_request' };
  if (isDatabaseUnavailable(err)) return { status: 503, code: 'errors.unavailable' };
  // "invalid byte sequence": bytes PostgreSQL cannot store (NUL) that slipped past the input.
  if (e?.code === '22021') return { status: 400, code: 'errors.bad_request' };
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, code: status === 404 ? 'errors.not_found' : 'errors.bad_request' };
  }
  return { status: 500, code: 'errors.internal' };
}

/**
 * One error handler: known errors become their page, the database being unreachable a 503,
 * anything else is logged with the request id and shown as a generic 500 page. The stack is
 * shown only in development.
 */
export function errorHandler(opts: { logger: Logger; showStack: boolean }) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) {
      // The answer already went out and an error came after it: the session store failing to
      // save or touch the session while the database restarts. Express would destroy the socket,
      // cutting off a page the user was given; log it and let the answer finish.
      if (res.writableEnded) {
        (req.log ?? opts.logger).warn({ err }, 'error after the response was sent');
        return;
      }
      (req.log ?? opts.logger).warn({ err }, 'error while the response was being sent');
      return next(err);
    }
    const c = classify(err);
    if (c.status >= 500) {
      const level = c.status === 503 ? 'warn' : 'error';
      req.log?.[level]({ err }, c.status === 503 ? 'database unavailable' : 'unhandled error');
      if (!req.log) opts.logger[level]({ err }, 'unhandled error');
    }
    if (err instanceof TooManyRequests) res.set('Retry-After', String(err.retryAfterSeconds));
    if (c.status === 503) res.set('Retry-After', '5');
    const status = PAGES.has(c.status) ? c.status : c.status >= 500 ? 500 : 400;
    const t = res.locals.t as ((k: string, o?: object) => string) | undefined;
    const locals = {
      status,
      message: t ? t(c.code, c.params) : c.code,
      title: t ? t(`errors.titles.${status}`) : String(status),
      requestId: req.id,
      // The "try again" link of a 403 or 503: this page, unless the path points elsewhere.
      retryPath: safeReturnTo(req.originalUrl),
      stack: opts.showStack && status === 500 ? (err as Error)?.stack : undefined,
    };
    res.status(status);
    if (!t || !req.accepts('html')) {
      res.type('text/plain').send(`${locals.title}: ${locals.message}`);
      return;
    }
    res.render('errors/error', locals, (renderErr, html) => {
      if (renderErr) {
        opts.logger.error({ err: renderErr }, 'error page failed to render');
        res.type('text/plain').send(`${locals.title}: ${locals.message}`);
        return;
      }
      res.send(html);
    });
  };
}

/**
 * Goes after errorHandler: an error that comes once errorHandler has answered, such as
 * express-session failing to save or touch the session at the end of an error page while the
 * database restarts. Express's final handler would destroy the connection and cut that page
 * off; the page is complete, so the error is only logged.
 */
export function lateErrorHandler(logger: Logger) {
  return (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    if (!res.headersSent) return next(err);
    (req.log ?? logger).warn({ err }, 'error after the error page was sent');
  };
}
