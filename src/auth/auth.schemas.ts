import { z } from 'zod';
import { fields } from '../http/validate';

export const loginSchema = z.object({
  email: z
    .string({ error: 'validation.required' })
    .trim()
    .min(1, 'validation.required')
    .max(254, 'validation.too_long:254'),
  password: z
    .string({ error: 'validation.required' })
    .min(1, 'validation.required')
    .max(200, 'validation.too_long:200'),
  returnTo: z.string().optional(),
});

export const setupSchema = z
  .object({
    token: z.string().optional(),
    name: fields.text(120),
    email: fields.email(),
    password: fields.password(),
    password_confirm: z.string().optional(),
  })
  .refine((v) => v.password === v.password_confirm, {
    path: ['password_confirm'],
    message: 'validation.password_mismatch',
  });

export const forgotSchema = z.object({
  email: fields.email(),
});

export const resetSchema = z
  .object({
    password: fields.password(),
    password_confirm: z.string().optional(),
  })
  .refine((v) => v.password === v.password_confirm, {
    path: ['password_confirm'],
    message: 'validation.password_mismatch',
  });
