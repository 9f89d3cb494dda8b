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
