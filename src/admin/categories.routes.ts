import { Router } from 'express';
import type { Knex } from 'knex';
import { historyOf } from '../audit/audit.repo';
import { describeAudit } from '../audit/describe';
import * as repo from '../categories/categories.repo';
import type { TFunction } from '../i18n';
import * as service from '../categories/categories.service';
import { AppError, BadRequest, NotFound } from '../http/errors';
import { flash } from '../http/flash';
import { requireRole } from '../http/guards';
import {
  fieldErrors,
  fields,
  renderFormErrors,
  validateBody,
  type FieldErrors,
} from '../http/validate';
import { createCategorySchema, editCategorySchema, moveCategorySchema } from './categories.schemas';

const idParam = fields.id();

/** The field a service refusal belongs to, or null when it is not a form mistake. */
function serviceFieldErrors(err: unknown): FieldErrors | null {
  if (err instanceof service.InvalidAssigneeError) return { default_assignee_id: err.code };
  if (err instanceof AppError && err.status === 409) return { name: err.code };
  return null;
}

export function adminCategoryRoutes({ db }: { db: Knex }): Router {
  const router = Router();
  router.use('/admin/categories', requireRole('admin'));

  const formLocals = async () => ({ assignees: await repo.listAssignees(db) });
  /** The edit page: the form's options and who changed what on this category. */
  const editLocals = async (category: repo.Category, t: TFunction) => ({
    category,
    ...(await formLocals()),
    history: describeAudit(await historyOf(db, 'category', category.id), t),
  });

  async function loadCategory(rawId: unknown): Promise<repo.Category> {
    const id = idParam.safeParse(rawId);
    const category = id.success ? await repo.findCategory(db, id.data) : null;
    if (!category) throw new NotFound();
    return category;
  }

  // GET /admin/categories: every category, in the order tickets offer them
  router.get('/admin/categories', async (_req, res) => {
    res.render('admin/categories/index', { categories: await repo.listCategories(db) });
  });

  // GET /admin/categories/new: the creation form
  router.get('/admin/categories/new', async (_req, res) => {
    res.render('admin/categories/new', { values: {}, errors: {}, ...(await formLocals()) });
  });

  // POST /admin/categories: create a category at the end of the list
  router.post(
    '/admin/categories',
    validateBody(createCategorySchema, { view: 'admin/categories/new', locals: formLocals }),
    async (req, res) => {
      const view = 'admin/categories/new';
      try {
        const category = await service.createCategory(db, req.user!, res.locals.input);
        flash(req, 'success', 'categories.flash.created', { name: category.name });
        res.redirect('/admin/categories');
      } catch (err) {
        const errors = serviceFieldErrors(err);
        if (!errors) throw err;
        renderFormErrors(res, view, req.body, errors, await formLocals());
      }
    },
  );

  // GET /admin/categories/:id: the edit form
  router.get('/admin/categories/:id', async (req, res) => {
    const category = await loadCategory(req.params.id);
    const values = {
      name: category.name,
      default_assignee_id: category.defaultAssigneeId ?? '',
      active: category.active,
    };
    res.render('admin/categories/edit', {
      ...(await editLocals(category, res.locals.t)),
      values,
      errors: {},
    });
  });

  // POST /admin/categories/:id: rename, change the default assignee, (de)activate
  router.post('/admin/categories/:id', async (req, res) => {
    const category = await loadCategory(req.params.id);
    const view = 'admin/categories/edit';
    const values = { ...req.body, active: req.body?.active === '1' };
    const parsed = editCategorySchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      const locals = await editLocals(category, res.locals.t);
      return renderFormErrors(res, view, values, fieldErrors(parsed.error), locals);
    }
    try {
      await service.editCategory(db, req.user!, category.id, parsed.data);
    } catch (err) {
      const errors = serviceFieldErrors(err);
      if (!errors) throw err;
      return renderFormErrors(res, view, values, errors, await editLocals(category, res.locals.t));
    }
    flash(req, 'success', 'categories.flash.updated', { name: parsed.data.name });
    res.redirect('/admin/categories');
  });

  // POST /admin/categories/:id/move: swap with the category above or below
  router.post('/admin/categories/:id/move', async (req, res) => {
    const category = await loadCategory(req.params.id);
    const parsed = moveCategorySchema.safeParse(req.body ?? {});
    if (!parsed.success) throw new BadRequest();
    const { direction } = parsed.data;
    const moved = await service.moveCategory(db, req.user!, category.id, direction);
    if (moved)
      flash(req, 'success', `categories.flash.moved_${direction}`, { name: category.name });
    else flash(req, 'info', `categories.flash.not_moved_${direction}`, { name: category.name });
    // Back to the row that moved, so a keyboard user does not start again from the top.
    res.redirect(`/admin/categories#category-${category.id}`);
  });

  return router;
}
