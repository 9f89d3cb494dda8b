import { z } from 'zod';
import { fields } from '../http/validate';

const INVALID_ASSIGNEE = 'categories.errors.invalid_assignee';

// "Nobody" arrives as an empty string; an id that names no active staff member is caught
// by the service, with the same message.
const defaultAssigneeId = z
  .string({ error: INVALID_ASSIGNEE })
  .optional()
  .transform((v) => v?.trim() || null)
  .pipe(
    z
      .string()
      .regex(/^\d{1,15}$/, INVALID_ASSIGNEE)
      .transform(Number)
      .nullable(),
  );

const name = fields.text(80);

export const createCategorySchema = z
  .object({ name, default_assignee_id: defaultAssigneeId })
  .transform((v) => ({ name: v.name, defaultAssigneeId: v.default_assignee_id }));

export const editCategorySchema = z
  .object({ name, default_assignee_id: defaultAssigneeId, active: fields.checkbox() })
  .transform((v) => ({
    name: v.name,
    defaultAssigneeId: v.default_assignee_id,
    active: v.active,
  }));

export const moveCategorySchema = z.object({
  direction: z.enum(['up', 'down'], { error: 'validation.invalid_choice' }),
});
