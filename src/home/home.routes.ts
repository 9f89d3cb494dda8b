import { Router } from 'express';
import { requireUser } from '../http/guards';

export function homeRoutes(): Router {
  const router = Router();

  // GET /: the signed-in user's starting page
  router.get('/', requireUser, (_req, res) => {
    res.render('home/index');
  });

  return router;
}
