import { Router, type Request, type Response } from 'express';
import type { Knex } from 'knex';
import type { Config } from '../config';
import { flash } from '../http/flash';
import { setLocale } from '../http/locale';
import { fieldErrors, validateBody } from '../http/validate';
import { LOCALE_COOKIE } from '../i18n';
import type { Outbox } from '../notifications/outbox';
import type * as users from '../users/users.repo';
import { logIn } from './auth.routes';
import { forgotSchema, resetSchema } from './auth.schemas';
import * as service from './password-reset.service';
import { Throttle, type ThrottleRules } from './throttle';

/** Every request counts, found address or not, so the limit says nothing about accounts. */
export const DEFAULT_RESET_RULES: ThrottleRules = {
  perAccount: 5,
  perAddress: 20,
  windowSeconds: 3600,
  blockSeconds: 3600,
};

interface PasswordDeps {
  db: Knex;
  config: Config;
  outbox: Outbox;
  clock: () => Date;
  throttleRules?: ThrottleRules;
}

/** The page for a link that is unknown, expired, already used or for a deactivated account. */
function renderDeadLink(res: Response): void {
  res.status(410).render('auth/link-expired');
}

/** The page speaks the link owner's language, unless this browser chose one. */
function useOwnerLocale(req: Request, res: Response, user: users.User): void {
  if (user.locale && !req.cookies?.[LOCALE_COOKIE]) setLocale(req, res, user.locale);
}

export function passwordRoutes({
  db,
  config,
  outbox,
  clock,
  throttleRules = DEFAULT_RESET_RULES,
}: PasswordDeps): Router {
  const router = Router();
  const throttle = new Throttle(db, 'reset', throttleRules);
  const links: service.AccountLinkDeps = {
    outbox,
    baseUrl: config.baseUrl,
    defaultLocale: config.defaultLocale,
    emailEnabled: config.email.enabled,
    clock,
  };

  // The URL holds a live token: no cache, shared or private, may keep these pages.
  router.use('/password/reset', (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });

  // GET /password/forgot: ask for a reset link
  router.get('/password/forgot', (_req, res) => {
    res.render('auth/forgot', { values: {}, errors: {} });
  });

  // POST /password/forgot: the same answer whether or not the address has an account
  router.post(
    '/password/forgot',
    validateBody(forgotSchema, { view: 'auth/forgot' }),
    async (req: Request, res: Response) => {
      const { email } = res.locals.input as { email: string };
      const address = req.ip ?? 'unknown';
      const wait = await throttle.check(email, address);
      if (wait > 0) {
        res.set('Retry-After', String(wait));
        return res.status(429).render('auth/forgot', {
          values: { email },
          errors: {},
          formError: res.locals.t('auth.forgot.throttled', { count: Math.ceil(wait / 60) }),
        });
      }
      await throttle.fail(email, address);
      // The token and the email are made once the answer is gone, so the response time does
      // not tell a known address from an unknown one.
      res.once('close', () => {
        service
          .requestPasswordReset(db, links, email)
          .catch((err: unknown) => req.log.error({ err }, 'password reset email not queued'));
      });
      flash(req, 'success', 'auth.forgot.sent');
      res.redirect('/password/forgot');
    },
  );

  // GET /password/reset/:token: choose a password through an invitation or reset link
  router.get('/password/reset/:token', async (req, res) => {
    const link = await service.findLinkUser(db, req.params.token, clock());
    if (!link) return renderDeadLink(res);
    useOwnerLocale(req, res, link.user);
    res.render('auth/reset', {
      token: req.params.token,
      purpose: link.purpose,
      email: link.user.email,
      errors: {},
    });
  });

  // POST /password/reset/:token: set the password, end every session, log in
  router.post('/password/reset/:token', async (req, res) => {
    const { token } = req.params;
    const link = await service.findLinkUser(db, token, clock());
    if (!link) return renderDeadLink(res);
    useOwnerLocale(req, res, link.user);
    const parsed = resetSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      return res.status(422).render('auth/reset', {
        token,
        purpose: link.purpose,
        email: link.user.email,
        errors: fieldErrors(parsed.error),
      });
    }
    const user = await service.resetPassword(db, clock, token, parsed.data.password);
    if (!user) return renderDeadLink(res);
    await logIn(req, {
      id: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      locale: user.locale,
    });
    flash(req, 'success', link.purpose === 'invite' ? 'auth.reset.welcome' : 'auth.reset.done');
    res.redirect('/tickets');
  });

  return router;
}
