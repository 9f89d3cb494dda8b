import type { Locale } from '../config';
import type { Role } from '../users/users.repo';

declare global {
  namespace Express {
    interface User {
      id: number;
      email: string;
      name: string;
      role: Role;
      locale: Locale | null;
    }
    interface Request {
      locale: Locale;
    }
  }
}

export interface FlashMessage {
  type: 'success' | 'error' | 'info';
  key: string;
  params?: Record<string, string | number>;
}

declare module 'express-session' {
  interface SessionData {
    flash?: FlashMessage[];
    csrfSecret?: string;
  }
}
