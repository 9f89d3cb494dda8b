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
