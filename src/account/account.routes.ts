import { Router, type Request, type Response } from 'express';
import type { Knex } from 'knex';
import { AppError } from '../http/errors';
import { flash } from '../http/flash';
import { requireUser } from '../http/guards';
import { setLocale } from '../http/locale';
import { fieldErrors } from '../http/validate';
import * as service from '../users/users.service';
import { notificationPrefsSchema, passwordSchema, profileSchema } from './account.schemas';
import { readPrefOptions, savePrefs } from './notification-prefs.service';

async function renderAccount(
  db: Knex,
  req: Request,
  res: Response,
  extra: Record<string, unknown> = {},
  status = 200,
) {
  const user = req.user!;
  res.status(status).render('account/index', {
    profile: { name: user.name, locale: user.locale ?? req.locale },
    profileErrors: {},
    passwordErrors: {},
    notificationOptions: await readPrefOptions(db, user),
    ...extra,
  });
}

export function accountRoutes({ db }: { db: Knex }): Router {
  const router = Router();
  router.use('/account', requireUser);

  // GET /account: profile, language, password and email preferences
  router.get('/account', (req, res) => renderAccount(db, req, res));

  // POST /account: change name and language
  router.post('/account', async (req, res) => {
    const parsed = profileSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      return renderAccount(
        db,
        req,
        res,
        { profile: req.body, profileErrors: fieldErrors(parsed.error) },
        422,
      );
    }
    await service.updateProfile(db, req.user!, parsed.data);
    setLocale(req, res, parsed.data.locale);
    flash(req, 'success', 'account.flash.profile_saved');
    res.redirect('/account');
  });

  // POST /account/password: change password (current one required), end other sessions
  router.post('/account/password', async (req, res) => {
    const parsed = passwordSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      return renderAccount(db, req, res, { passwordErrors: fieldErrors(parsed.error) }, 422);
    }
    try {
      await service.changePassword(
        db,
        req.user!,
        { currentPassword: parsed.data.current_password, newPassword: parsed.data.new_password },
        req.sessionID,
      );
    } catch (err) {
      if (err instanceof AppError && err.status === 422) {
        return renderAccount(db, req, res, { passwordErrors: { current_password: err.code } }, 422);
      }
      throw err;
    }
    flash(req, 'success', 'account.flash.password_changed');
    res.redirect('/account');
  });

  // POST /account/notifications: which emails I receive
  router.post('/account/notifications', async (req, res) => {
    const parsed = notificationPrefsSchema.parse(req.body ?? {});
    await savePrefs(db, req.user!, parsed);
    flash(req, 'success', 'account.flash.notifications_saved');
    res.redirect('/account#notifications-title');
  });

  return router;
}
