import type { NextFunction, Request, Response } from 'express';
import type { FlashMessage } from '../types/express';

/** Queues a message for the next page (POST/redirect/GET). */
export function flash(
  req: Request,
  type: FlashMessage['type'],
  key: string,
  params?: FlashMessage['params'],
): void {
  if (!req.session) return;
  req.session.flash = [...(req.session.flash ?? []), { type, key, params }];
}

export function exposeFlash(req: Request, res: Response, next: NextFunction): void {
  res.locals.flash = req.session?.flash ?? [];
  if (req.session?.flash) delete req.session.flash;
  next();
}

/**
 * Browsers follow a redirect as soon as its headers arrive, while express-session writes the
 * session only as the response ends: the next page could read the old session and lose the
 * flash message (or show it a page later). With a message queued, the session is saved first.
 */
export function saveFlashBeforeRedirect(req: Request, res: Response, next: NextFunction): void {
  const redirect = res.redirect.bind(res) as (...args: unknown[]) => void;
  res.redirect = ((...args: unknown[]) => {
    if (!req.session?.flash?.length) return redirect(...args);
    req.session.save((err) => (err ? next(err) : redirect(...args)));
  }) as Response['redirect'];
  next();
}
