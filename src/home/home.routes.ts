import { Router } from 'express';
import { requireUser } from '../http/guards';

export function homeRoutes(): Router {
  const router = Router();

  // GET /: everyone starts on their ticket list (the queue for staff)
  router.get('/', requireUser, (_req, res) => {
    res.redirect('/tickets');
  });

  return router;
}
