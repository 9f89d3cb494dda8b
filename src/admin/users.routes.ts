import { Router } from 'express';
import type { Knex } from 'knex';
import { resendInvitation, type AccountLinkDeps } from '../auth/password-reset.service';
import type { Config } from '../config';
import { AppError, NotFound } from '../http/errors';
import { flash } from '../http/flash';
import { requireRole } from '../http/guards';
import { fieldErrors, fields, renderFormErrors, validateBody } from '../http/validate';
import type { Outbox } from '../notifications/outbox';
import { ROLES } from '../users/users.repo';
import { historyOf } from '../audit/audit.repo';
import { describeAudit } from '../audit/describe';
import type { TFunction } from '../i18n';
import * as repo from '../users/users.repo';
import * as service from '../users/users.service';
import { createUserSchema, editUserSchema, userFilterSchema } from './users.schemas';

const idParam = fields.id();

interface AdminUserDeps {
  db: Knex;
  config: Config;
  outbox: Outbox;
  clock: () => Date;
}

export function adminUserRoutes({ db, config, outbox, clock }: AdminUserDeps): Router {
  const router = Router();
  const links: AccountLinkDeps = {
    outbox,
    baseUrl: config.baseUrl,
    defaultLocale: config.defaultLocale,
    emailEnabled: config.email.enabled,
    clock,
  };
  router.use('/admin', requireRole('admin'));

  /** What the edit page shows beside the form: the account and who changed what on it. */
  const editLocals = async (user: repo.User, t: TFunction) => ({
    user,
    roles: ROLES,
    history: describeAudit(await historyOf(db, 'user', user.id), t),
  });

  // GET /admin/users: every account, with a search and a role filter
  router.get('/admin/users', async (req, res) => {
    const filter = userFilterSchema.parse(req.query);
    const list = await repo.listUsers(db, filter);
    res.render('admin/users/index', { users: list, filter, roles: ROLES });
  });

  // GET /admin/users/new: the creation form
  router.get('/admin/users/new', (_req, res) => {
    res.render('admin/users/new', { values: { role: 'employee' }, errors: {}, roles: ROLES });
  });

  // POST /admin/users: create an account, with a password or an invitation to choose one
  router.post(
    '/admin/users',
    validateBody(createUserSchema, { view: 'admin/users/new', locals: () => ({ roles: ROLES }) }),
    async (req, res) => {
      const input = res.locals.input;
      try {
        const user = await service.createUser(db, req.user!, input, links);
        if (user.passwordHash) flash(req, 'success', 'users.flash.created', { name: user.name });
        else flash(req, 'success', 'users.invite.created', { name: user.name, email: user.email });
        res.redirect('/admin/users');
      } catch (err) {
        if (err instanceof AppError && (err.status === 409 || err.status === 422)) {
          const field = err.status === 409 ? 'email' : 'password';
          return renderFormErrors(
            res,
            'admin/users/new',
            { ...req.body, password: '' },
            { [field]: err.code },
            { roles: ROLES },
          );
        }
        throw err;
      }
    },
  );

  // GET /admin/users/:id: the edit form
  router.get('/admin/users/:id', async (req, res) => {
    const id = idParam.safeParse(req.params.id);
    const user = id.success ? await repo.findById(db, id.data) : null;
    if (!user) throw new NotFound();
    res.render('admin/users/edit', {
      ...(await editLocals(user, res.locals.t)),
      values: user,
      errors: {},
    });
  });

  // POST /admin/users/:id: change name, email, role, active flag or password
  router.post('/admin/users/:id', async (req, res) => {
    const id = idParam.safeParse(req.params.id);
    const user = id.success ? await repo.findById(db, id.data) : null;
    if (!user) throw new NotFound();
    const view = 'admin/users/edit';
    const values = { ...req.body, password: '', active: req.body?.active === '1' };
    const parsed = editUserSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const locals = await editLocals(user, res.locals.t);
      return renderFormErrors(res, view, values, fieldErrors(parsed.error), locals);
    }
    try {
      await service.editUser(db, req.user!, user.id, parsed.data);
    } catch (err) {
      if (err instanceof AppError && (err.status === 409 || err.status === 422)) {
        const field = err.status === 409 ? 'email' : '_form';
        const locals = await editLocals(user, res.locals.t);
        return renderFormErrors(res, view, values, { [field]: err.code }, locals);
      }
      throw err;
    }
    flash(req, 'success', 'users.flash.updated', { name: parsed.data.name });
    res.redirect('/admin/users');
  });

  // POST /admin/users/:id/invite: a new invitation for an account still without a password
  router.post('/admin/users/:id/invite', async (req, res) => {
    const id = idParam.safeParse(req.params.id);
    if (!id.success) throw new NotFound();
    try {
      const user = await resendInvitation(db, links, id.data);
      flash(req, 'success', 'users.invite.sent', { email: user.email });
    } catch (err) {
      if (!(err instanceof AppError && err.status === 422)) throw err;
      flash(req, 'error', err.code);
    }
    res.redirect(`/admin/users/${id.data}`);
  });

  return router;
}
