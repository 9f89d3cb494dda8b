import { Router } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Config } from '../config';
import { requireRole, STAFF_ROLES } from '../http/guards';
import {
  assignedTo,
  DashboardStats,
  DEFAULT_PERIOD,
  PERIODS,
  type Period,
} from './dashboard.service';
import { dashboardView } from './dashboard.view';

/** Figures are shared by every viewer for at most this long (see DashboardStats). */
export const DASHBOARD_CACHE_MS = 60_000;

const querySchema = z.object({
  period: z.preprocess(
    (v) => (typeof v === 'string' ? Number(v) : undefined),
    z
      .number()
      .refine((n): n is Period => (PERIODS as readonly number[]).includes(n))
      .catch(DEFAULT_PERIOD),
  ),
});

interface DashboardDeps {
  db: Knex;
  config: Config;
  clock: () => Date;
  cacheMs?: number;
}

export function dashboardRoutes({ db, config, clock, cacheMs }: DashboardDeps): Router {
  const router = Router();
  const stats = new DashboardStats(db, config.timeZone, clock, cacheMs ?? DASHBOARD_CACHE_MS);

  // GET /dashboard: where the desk stands, for technicians and admins
  router.get('/dashboard', requireRole(...STAFF_ROLES), async (req, res) => {
    const { period } = querySchema.parse(req.query);
    const [desk, mine] = await Promise.all([
      stats.get(period as Period),
      assignedTo(db, req.user!.id),
    ]);
    res.render('dashboard/index', {
      view: dashboardView(desk, mine, res.locals.t, req.locale, config.timeZone),
      period,
      periods: PERIODS,
    });
  });

  return router;
}
