import { Router } from 'express';
import { requireUser } from '../http/guards';
import { isStaff } from '../tickets/workflow';

export function homeRoutes(): Router {
  const router = Router();

  // GET /: technicians and admins start on the dashboard, employees on their ticket list
  router.get('/', requireUser, (req, res) => {
    res.redirect(isStaff(req.user!) ? '/dashboard' : '/tickets');
  });

  return router;
}
