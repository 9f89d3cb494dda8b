/** A failure the user should see as a page with a status; `code` is an i18n key. */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(code);
  }
}

export class BadRequest extends AppError {
  constructor(code = 'errors.bad_request', details?: Record<string, unknown>) {
    super(400, code, details);
  }
}

export class Forbidden extends AppError {
  constructor(code = 'errors.forbidden', details?: Record<string, unknown>) {
    super(403, code, details);
  }
}

export class NotFound extends AppError {
  constructor(code = 'errors.not_found', details?: Record<string, unknown>) {
    super(404, code, details);
  }
}

export class PayloadTooLarge extends AppError {
  constructor(code = 'errors.too_large', details?: Record<string, unknown>) {
    super(413, code, details);
  }
}

export class Conflict extends AppError {
  constructor(code = 'errors.conflict', details?: Record<string, unknown>) {
    super(409, code, details);
  }
}

export class InvalidTransition extends AppError {
  constructor(code = 'errors.invalid_transition', details?: Record<string, unknown>) {
    super(422, code, details);
  }
}

export class TooManyRequests extends AppError {
  constructor(
    readonly retryAfterSeconds: number,
    code = 'errors.too_many_requests',
  ) {
    super(429, code, { minutes: Math.max(1, Math.ceil(retryAfterSeconds / 60)) });
  }
}

/** PostgreSQL unique violation, for repos to turn into a Conflict. */
export function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: string }).code === '23505';
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006',
]);

/** Whether an error means "the database cannot be reached right now". */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: string; name?: string; message?: string };
  if (e.code && UNAVAILABLE_CODES.has(e.code)) return true;
  if (e.name === 'KnexTimeoutError') return true;
  const msg = e.message ?? '';
  return (
    msg.includes('Connection terminated') ||
    msg.includes('Client has encountered a connection error') ||
    msg.includes('connect ECONNREFUSED') ||
    msg.includes('timeout exceeded when trying to connect')
  );
}
