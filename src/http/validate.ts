import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';

export type FieldErrors = Record<string, string>;

/** Zod messages are i18n keys; the first one per field is shown next to it. */
export function fieldErrors(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const field = String(issue.path[0] ?? '_form');
    out[field] ??= issue.message.includes('.') ? issue.message : 'validation.invalid';
  }
  return out;
}

interface ValidateOptions {
  /** The view re-rendered with the input and the errors when validation fails. */
  view: string;
  status?: number;
  /** Extra locals the view needs (select options…), computed per request. */
  locals?: (
    req: Request,
    res: Response,
  ) => Promise<Record<string, unknown>> | Record<string, unknown>;
}

/**
 * Validates `req.body`; on success stores the parsed value in `res.locals.input`, on failure
 * re-renders the same form with what the user typed and a message per field.
 */
export function validateBody<S extends z.ZodType>(schema: S, opts: ValidateOptions) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const parsed = schema.safeParse(req.body ?? {});
    if (parsed.success) {
      res.locals.input = parsed.data;
      return next();
    }
    const extra = opts.locals ? await opts.locals(req, res) : {};
    res.status(opts.status ?? 422).render(opts.view, {
      ...extra,
      values: req.body ?? {},
      errors: fieldErrors(parsed.error),
    });
  };
}

/** Re-renders a form with errors found by a service rather than by the schema. */
export function renderFormErrors(
  res: Response,
  view: string,
  values: unknown,
  errors: FieldErrors,
  extra: Record<string, unknown> = {},
  status = 422,
): void {
  res.status(status).render(view, { ...extra, values, errors });
}

// Reusable field shapes. Form fields arrive as strings; messages are i18n keys.
const trimmed = () =>
  z.preprocess(
    (v) => (typeof v === 'string' ? v.trim() : v),
    z.string({ error: 'validation.required' }),
  );

export const fields = {
  text: (max: number) =>
    trimmed().pipe(z.string().min(1, 'validation.required').max(max, `validation.too_long:${max}`)),
  optionalText: (max: number) =>
    trimmed()
      .optional()
      .transform((v) => v || undefined)
      .pipe(z.string().max(max, `validation.too_long:${max}`).optional()),
  email: () =>
    trimmed().pipe(
      z
        .string()
        .min(1, 'validation.required')
        .max(254, 'validation.too_long:254')
        .pipe(z.email({ error: 'validation.email' }))
        .transform((v) => v.toLowerCase()),
    ),
  password: () =>
    z
      .string({ error: 'validation.required' })
      .min(10, 'validation.password_too_short')
      .max(200, 'validation.too_long:200'),
  /** A checkbox sends its value when ticked and nothing at all otherwise. */
  checkbox: () =>
    z
      .unknown()
      .optional()
      .transform((v) => {
        const values = Array.isArray(v) ? v : [v];
        return values.some((x) => x === '1' || x === 'on' || x === 'true');
      }),
  id: () =>
    z
      .string({ error: 'validation.invalid' })
      .regex(/^\d{1,15}$/, 'validation.invalid')
      .transform(Number),
};
