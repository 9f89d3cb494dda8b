import { Router } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { historyOf, recentAudit } from '../audit/audit.repo';
import { describeAudit } from '../audit/describe';
import type { Config } from '../config';
import { flash } from '../http/flash';
import { requireRole } from '../http/guards';
import { fieldErrors } from '../http/validate';
import { loadSettings, saveSettings, type SettingsDefaults } from '../settings/settings.repo';

const settingsSchema = z.object({
  auto_close_days: z
    .string({ error: 'validation.required' })
    .trim()
    .regex(/^\d{1,3}$/, 'settings.errors.days')
    .transform(Number)
    .pipe(z.number().int().min(1, 'settings.errors.days').max(365, 'settings.errors.days')),
});

const auditQuerySchema = z.object({
  before: z.preprocess(
    (v) => (typeof v === 'string' && /^\d{1,15}$/.test(v) ? Number(v) : undefined),
    z.number().optional(),
  ),
});

const AUDIT_PAGE = 50;

export function adminSettingsRoutes({ db, config }: { db: Knex; config: Config }): Router {
  const router = Router();
  const defaults: SettingsDefaults = { autoCloseDays: config.autoCloseDays };
  router.use(['/admin/settings', '/admin/audit'], requireRole('admin'));

  const history = async (t: Parameters<typeof describeAudit>[1]) =>
    describeAudit(await historyOf(db, 'settings', null, 20), t);

  // GET /admin/settings: what admins can change without a restart, and who changed it
  router.get('/admin/settings', async (_req, res) => {
    const settings = await loadSettings(db, defaults);
    res.render('admin/settings/index', {
      values: { auto_close_days: settings.autoCloseDays },
      errors: {},
      defaults,
      history: await history(res.locals.t),
    });
  });

  // POST /admin/settings: save them; every change is audited
  router.post('/admin/settings', async (req, res) => {
    const parsed = settingsSchema.safeParse(req.body ?? {});
    if (!parsed.success) {
      return res.status(422).render('admin/settings/index', {
        values: req.body ?? {},
        errors: fieldErrors(parsed.error),
        defaults,
        history: await history(res.locals.t),
      });
    }
    const changed = await saveSettings(db, req.user!.id, defaults, {
      autoCloseDays: parsed.data.auto_close_days,
    });
    flash(
      req,
      changed.length ? 'success' : 'info',
      changed.length ? 'settings.flash.saved' : 'settings.flash.unchanged',
    );
    res.redirect('/admin/settings');
  });

  // GET /admin/audit: every admin action, newest first
  router.get('/admin/audit', async (req, res) => {
    const { before } = auditQuerySchema.parse(req.query);
    const events = await recentAudit(db, { before, limit: AUDIT_PAGE + 1 });
    const lines = describeAudit(events.slice(0, AUDIT_PAGE), res.locals.t);
    res.render('admin/audit/index', {
      lines,
      nextUrl:
        events.length > AUDIT_PAGE ? `/admin/audit?before=${lines[lines.length - 1].id}` : null,
      firstUrl: before ? '/admin/audit' : null,
    });
  });

  return router;
}
