import { z } from 'zod';
import { fields } from '../http/validate';

export const profileSchema = z.object({
  name: fields.text(120),
  locale: z.enum(['fr', 'en'], { error: 'validation.invalid_choice' }),
});

export const passwordSchema = z
  .object({
    current_password: z.string({ error: 'validation.required' }).min(1, 'validation.required'),
    new_password: fields.password(),
    new_password_confirm: z.string().optional(),
  })
  .refine((v) => v.new_password === v.new_password_confirm, {
    path: ['new_password_confirm'],
    message: 'validation.password_mismatch',
  });

/** One checkbox per email kind; an unticked box sends nothing, which means "no". */
export const notificationPrefsSchema = z
  .object({
    notify_created: fields.checkbox(),
    notify_assigned: fields.checkbox(),
    notify_reply: fields.checkbox(),
    notify_status: fields.checkbox(),
    notify_note: fields.checkbox(),
  })
  .transform((v) => ({
    created: v.notify_created,
    assigned: v.notify_assigned,
    reply: v.notify_reply,
    status: v.notify_status,
    note: v.notify_note,
  }));
