import { z } from 'zod';
import { fields } from '../http/validate';
import { NOTIFICATION_STATUSES } from '../notifications/outbox.repo';

/** Query string of /admin/outbox; anything malformed is ignored rather than refused. */
export const outboxFilterSchema = z.object({
  status: z.enum(NOTIFICATION_STATUSES).optional().catch(undefined),
  q: z
    .string()
    .trim()
    .max(200)
    .optional()
    .transform((v) => v || undefined)
    .catch(undefined),
  // "#42" is how tickets are written everywhere, so it is accepted as well as "42".
  ticket: z
    .string()
    .trim()
    .regex(/^#?\d{1,15}$/)
    .transform((v) => Number(v.replace('#', '')))
    .optional()
    .catch(undefined),
  before: fields.id().optional().catch(undefined),
});
export type OutboxQuery = z.infer<typeof outboxFilterSchema>;

export const testEmailSchema = z.object({
  to: fields.email(),
});

export const returnToSchema = z.object({
  returnTo: z.string().optional(),
});
