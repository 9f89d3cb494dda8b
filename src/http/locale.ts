import type { NextFunction, Request, Response } from 'express';
import type { Locale } from '../config';
import { isLocale, LOCALE_COOKIE, translator } from '../i18n';

/**
 * Resolves the language before anything can fail, so that even an error page is in the
 * visitor's language: the user's setting (applied later by `applyUserLocale`), then the
 * language cookie, then Accept-Language, then DEFAULT_LOCALE.
 */
export function resolveLocale(defaultLocale: Locale) {
  return (req: Request, res: Response, next: NextFunction) => {
    const fromCookie = req.cookies?.[LOCALE_COOKIE];
    const fromHeader = req.acceptsLanguages('fr', 'en');
    const locale: Locale = isLocale(fromCookie)
      ? fromCookie
      : isLocale(fromHeader)
        ? fromHeader
        : defaultLocale;
    setLocale(req, res, locale);
    // Defaults for pages rendered before the session exists (an error page while the
    // database is down): no user, no form token.
    res.locals.currentUser = null;
    res.locals.currentPath = req.originalUrl;
    res.locals.csrfToken = '';
    res.locals.flash = [];
    next();
  };
}

export function setLocale(req: Request, res: Response, locale: Locale): void {
  req.locale = locale;
  res.locals.locale = locale;
  res.locals.t = translator(locale);
}

export function applyUserLocale(req: Request, res: Response, next: NextFunction): void {
  if (req.user?.locale) setLocale(req, res, req.user.locale);
  next();
}
