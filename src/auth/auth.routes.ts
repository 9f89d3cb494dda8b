import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Knex } from 'knex';
import type passport from 'passport';
import { isLocale, LOCALE_COOKIE } from '../i18n';
import { flash } from '../http/flash';
import { safeReturnTo } from '../http/guards';
import { setLocale } from '../http/locale';
import { fieldErrors, validateBody } from '../http/validate';
import * as users from '../users/users.repo';
import { loginSchema, setupSchema } from './auth.schemas';
import { assertSetupAllowed, createFirstAdmin } from './auth.service';
import type { Throttle } from './throttle';

interface AuthDeps {
  db: Knex;
  passport: passport.PassportStatic;
  throttle: Throttle;
  secureCookies: boolean;
}

/**
 * Logs a user in: passport regenerates the session id, which defeats session fixation. The new
 * session gets its CSRF secret here, so that it is saved with the session before the redirect
 * (saveSessionBeforeRedirect) rather than made again by the page the browser loads next.
 */
export async function logIn(req: Request, user: Express.User): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    req.logIn(user, (err) => (err ? reject(err) : resolve())),
  );
  req.csrfToken();
}

export function authRoutes({ db, passport, throttle }: AuthDeps): Router {
  const router = Router();

  // GET /login: the login form
  router.get('/login', (req, res) => {
    const returnTo = safeReturnTo(req.query.returnTo);
    if (req.user) return res.redirect(returnTo);
    res.render('auth/login', { values: { returnTo }, errors: {} });
  });

  // POST /login: check the throttle, then the password
  router.post(
    '/login',
    validateBody(loginSchema, {
      view: 'auth/login',
      status: 400,
    }),
    async (req: Request, res: Response, next: NextFunction) => {
      const { email, returnTo } = res.locals.input as { email: string; returnTo?: string };
      const values = { email, returnTo: safeReturnTo(returnTo) };
      const address = req.ip ?? 'unknown';
      const wait = await throttle.check(email, address);
      if (wait > 0) {
        res.set('Retry-After', String(wait));
        return res.status(429).render('auth/login', {
          values,
          errors: {},
          formError: res.locals.t('auth.login.throttled', { count: Math.ceil(wait / 60) }),
        });
      }
      passport.authenticate('local', async (err: unknown, user: Express.User | false) => {
        try {
          if (err) return next(err);
          if (!user) {
            await throttle.fail(email, address);
            return res.status(401).render('auth/login', {
              values,
              errors: {},
              formError: res.locals.t('auth.login.invalid'),
            });
          }
          await throttle.reset(email);
          await logIn(req, user);
          if (user.locale) setLocale(req, res, user.locale);
          res.redirect(values.returnTo);
        } catch (e) {
          next(e);
        }
      })(req, res, next);
    },
  );

  // POST /logout: end the session on the server, not only in the browser
  router.post('/logout', (req, res, next) => {
    req.logout((err) => {
      if (err) return next(err);
      req.session.destroy((destroyErr) => {
        if (destroyErr) return next(destroyErr);
        res.clearCookie('guichet.sid');
        res.redirect('/login');
      });
    });
  });

  // POST /locale: the FR/EN switch in the header
  router.post('/locale', async (req, res) => {
    const locale = req.body?.locale;
    const back = safeReturnTo(req.body?.returnTo);
    if (!isLocale(locale)) return res.redirect(back);
    res.cookie(LOCALE_COOKIE, locale, {
      httpOnly: true,
      sameSite: 'lax',
      secure: req.secure,
      maxAge: 365 * 24 * 3600 * 1000,
    });
    if (req.user) {
      await users.updateUser(db, req.user.id, { locale });
    }
    res.redirect(back);
  });

  // GET /setup?token=…: the first-run page, only with the token from the log
  router.get('/setup', async (req, res) => {
    await assertSetupAllowed(db, req.query.token);
    res.render('auth/setup', { values: { token: req.query.token }, errors: {} });
  });

  // POST /setup: create the first admin and log them in
  router.post('/setup', async (req, res) => {
    await assertSetupAllowed(db, req.body?.token);
    const parsed = setupSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      return res.status(422).render('auth/setup', {
        values: { ...req.body, password: '', password_confirm: '' },
        errors: fieldErrors(parsed.error),
      });
    }
    const admin = await createFirstAdmin(db, req.body.token, {
      ...parsed.data,
      locale: req.locale,
    });
    await logIn(req, {
      id: admin.id,
      email: admin.email,
      name: admin.name,
      role: admin.role,
      locale: admin.locale,
    });
    flash(req, 'success', 'auth.setup.done');
    res.redirect('/admin/users');
  });

  return router;
}
