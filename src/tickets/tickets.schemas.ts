import { z } from 'zod';
import { isDay } from '../dashboard/calendar';
import { fields } from '../http/validate';
import { SORTS } from './queue.repo';
import { PRIORITIES, STATUSES } from './workflow';

export const TITLE_MAX = 200;
export const TEXT_MAX = 20000;

/** An optional id from a select: '' means none. */
const optionalId = () =>
  z
    .string()
    .optional()
    .transform((v) => (v ? v : undefined))
    .pipe(fields.id().optional());

/** A select where '' means "nobody / no category". */
const nullableId = () =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined ? undefined : v === '' ? null : v))
    .pipe(z.union([fields.id(), z.null(), z.undefined()]));

const version = z
  .string({ error: 'validation.invalid' })
  .regex(/^\d{1,9}$/, 'validation.invalid')
  .transform(Number);

const status = z.enum(STATUSES, { error: 'validation.invalid_choice' });
const priority = z.enum(PRIORITIES, { error: 'validation.invalid_choice' });

export const createTicketSchema = z.object({
  title: fields.text(TITLE_MAX),
  description: fields.text(TEXT_MAX),
  priority: priority.default('normal'),
  category_id: optionalId(),
  /** Staff only: file on behalf of this person (blank: myself). */
  requester_email: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() ? v : undefined),
    fields.email().optional(),
  ),
});

export const replySchema = z.object({
  version,
  body: fields.text(TEXT_MAX),
  internal: fields.checkbox(),
  status: z
    .string()
    .optional()
    .transform((v) => v || undefined)
    .pipe(status.optional()),
});

export const changeSchema = z.object({
  version,
  status: status.optional(),
  priority: priority.optional(),
  category_id: nullableId(),
  assignee_id: nullableId(),
});

export const versionOnlySchema = z.object({ version });

/** Query-string filters: anything unknown is ignored, so a bookmark never breaks the page. */
const one = (v: unknown) => (Array.isArray(v) ? v[0] : v);
const many = (v: unknown) => (Array.isArray(v) ? v : v === undefined || v === '' ? [] : [v]);
const idOrUndefined = (v: unknown) => {
  const s = one(v);
  return typeof s === 'string' && /^\d{1,15}$/.test(s) ? Number(s) : undefined;
};

/** A calendar day, YYYY-MM-DD; anything else is ignored. */
const day = z.preprocess((v) => (isDay(one(v)) ? one(v) : undefined), z.string().optional());

export const queueQuerySchema = z.object({
  status: z.preprocess(
    (v) => many(v).flatMap((s) => (typeof s === 'string' ? s.split(',') : [])),
    z.array(z.string()).transform((list) => STATUSES.filter((s) => list.includes(s))),
  ),
  priority: z.preprocess(one, priority.optional().catch(undefined)),
  category: z.preprocess(
    (v) => (one(v) === 'none' ? 'none' : idOrUndefined(v)),
    z.union([z.literal('none'), z.number()]).optional(),
  ),
  assignee: z.preprocess(
    (v) => {
      const s = one(v);
      return s === 'me' || s === 'none' ? s : idOrUndefined(s);
    },
    z.union([z.literal('me'), z.literal('none'), z.number()]).optional(),
  ),
  requester: z.preprocess(idOrUndefined, z.number().optional()),
  created_from: day,
  created_to: day,
  resolved_from: day,
  resolved_to: day,
  responded_from: day,
  responded_to: day,
  q: z.preprocess(
    (v) => (typeof one(v) === 'string' ? (one(v) as string).trim().slice(0, 200) : undefined),
    z.string().optional(),
  ),
  sort: z.preprocess(one, z.enum(SORTS).optional().catch(undefined)),
  cursor: z.preprocess(
    (v) => (typeof one(v) === 'string' ? one(v) : undefined),
    z.string().optional(),
  ),
});

export type QueueQuery = z.infer<typeof queueQuerySchema>;
