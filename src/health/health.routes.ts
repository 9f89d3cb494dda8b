import { Router } from 'express';
import type { Knex } from 'knex';

export function healthRoutes({ db }: { db: Knex }): Router {
  const router = Router();

  // GET /healthz: the process is up
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });

  // GET /readyz: the database answers
  router.get('/readyz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    try {
      await Promise.race([
        db.raw('select 1'),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
      ]);
      res.json({ status: 'ok', database: 'up' });
    } catch {
      res.status(503).json({ status: 'unavailable', database: 'down' });
    }
  });

  return router;
}

/**
 * The benchmark's floor (BENCHMARK_FLOOR=true only): mounted right after the session and
 * passport middleware, it pays what every logged-in page pays (cookie check, session row,
 * user row, session touch) and renders a tiny template, so `npm run bench` can show each
 * page's throughput as a share of it.
 */
export function benchmarkFloorRoutes(): Router {
  const router = Router();

  // GET /bench/floor: the session lookup and a tiny template, nothing else
  router.get('/bench/floor', (req, res) => {
    res.set('Cache-Control', 'no-store').render('health/floor', { name: req.user?.name ?? '' });
  });

  return router;
}
