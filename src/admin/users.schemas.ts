import { z } from 'zod';
import { fields } from '../http/validate';
import { ROLES } from '../users/users.repo';

const role = z.enum(ROLES, { error: 'validation.invalid_choice' });
const locale = z
  .enum(['fr', 'en', ''], { error: 'validation.invalid_choice' })
  .optional()
  .transform((v) => (v ? v : null));

export const createUserSchema = z.object({
  name: fields.text(120),
  email: fields.email(),
  role,
  locale,
  /** Empty: the user gets an invitation to choose their own. */
  password: z
    .string()
    .optional()
    .transform((v) => v || undefined)
    .pipe(fields.password().optional()),
});

export const editUserSchema = z.object({
  name: fields.text(120),
  email: fields.email(),
  role,
  active: fields.checkbox(),
  password: z
    .string()
    .optional()
    .transform((v) => v || undefined)
    .pipe(fields.password().optional()),
});

export const userFilterSchema = z.object({
  q: z.string().trim().max(200).optional().catch(undefined),
  role: role.optional().catch(undefined),
});
