import type { NextFunction, Request, Response } from 'express';
import type { Role } from '../users/users.repo';
import { Forbidden } from './errors';

/** Sends a logged-out visitor to /login, remembering where they were going. */
export function requireUser(req: Request, res: Response, next: NextFunction): void {
  if (req.user) return next();
  const returnTo = req.method === 'GET' ? safeReturnTo(req.originalUrl) : '/';
  res.redirect(returnTo === '/' ? '/login' : `/login?returnTo=${encodeURIComponent(returnTo)}`);
}

export function requireRole(...roles: Role[]) {
  return (req: Request, res: Response, next: NextFunction) => {
    if (!req.user) return requireUser(req, res, next);
    if (!roles.includes(req.user.role)) return next(new Forbidden());
    next();
  };
}

export const STAFF_ROLES: Role[] = ['technician', 'admin'];

/**
 * Keeps only local paths: `//host`, `/\host`, schemes and control characters all fall back
 * to `/`, so a crafted login link cannot send anyone elsewhere.
 */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string') return '/';
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return '/';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return '/';
  try {
    const u = new URL(value, 'http://guichet.invalid');
    if (u.origin !== 'http://guichet.invalid') return '/';
    return `${u.pathname}${u.search}${u.hash}`;
  } catch {
    return '/';
  }
}
