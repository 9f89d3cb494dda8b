/** Guichet's pages as a user sees them: log in and out, and the data a journey starts from. */
import type { Knex } from 'knex';
import type { Locator, Page, Response } from 'playwright-core';
import type { Locale } from '../../../src/config';
import { translator, type TFunction } from '../../../src/i18n';
import type { Role } from '../../../src/users/users.repo';
import { createUser, type TestUser } from '../../support/factories';
import { navigation, open, submit, type Visitor } from './browser';

export const LOCALES: Locale[] = ['fr', 'en'];

export function tr(locale: Locale): TFunction {
  return translator(locale);
}

export function button(page: Page, name: string): Locator {
  return page.getByRole('button', { name, exact: true });
}

/** The text of an element, whitespace collapsed. */
export async function textOf(locator: Locator): Promise<string> {
  return ((await locator.textContent()) ?? '').replace(/\s+/g, ' ').trim();
}

/** Fails unless the page shows `text` somewhere in `within` (default: the main content). */
export async function expectText(page: Page, text: string, within = '#main'): Promise<void> {
  const content = await textOf(page.locator(within));
  if (!content.includes(text)) {
    throw new Error(`${page.url()}: «${text}» not found in ${within}: «${content.slice(0, 600)}»`);
  }
}

export function expectStatus(response: Response, status: number): void {
  if (response.status() !== status) {
    throw new Error(`${response.url()}: HTTP ${response.status()}, expected ${status}`);
  }
}

export function expectPath(page: Page, path: string | RegExp): void {
  const url = new URL(page.url());
  const actual = `${url.pathname}${url.search}`;
  const ok = typeof path === 'string' ? actual === path : path.test(actual);
  if (!ok) throw new Error(`expected ${path}, the page is ${page.url()}`);
}

/** Logged in, wherever the home page sends this role (the queue, the dashboard…). */
export async function expectLoggedIn(v: Visitor): Promise<void> {
  expectPath(v.page, /^\/(?!login)/);
  if ((await button(v.page, tr(v.locale)('auth.logout')).count()) !== 1) {
    throw new Error(`${v.page.url()}: not logged in`);
  }
}

/** Fills the login form already on screen and submits it. */
export async function submitLogin(v: Visitor, email: string, password: string): Promise<Response> {
  await v.page.locator('#field-email').fill(email);
  await v.page.locator('#field-password').fill(password);
  return submit(v.page, button(v.page, tr(v.locale)('auth.login.submit')));
}

export async function login(v: Visitor, email: string, password: string): Promise<Response> {
  await open(v.page, '/login');
  return submitLogin(v, email, password);
}

export async function logout(v: Visitor): Promise<void> {
  await navigation(v.page, () => button(v.page, tr(v.locale)('auth.logout')).click());
  expectPath(v.page, '/login');
}

/** A user who speaks `locale`, with the factories' password. */
export function person(db: Knex, role: Role, locale: Locale): Promise<TestUser> {
  return createUser(db, { role, locale });
}

export async function category(db: Knex, name: string): Promise<number> {
  const [row] = await db('categories').insert({ name }).returning('id');
  return Number((row as { id: number | string }).id);
}

/** The id in /tickets/:id of the current page. */
export function ticketIdOf(page: Page): number {
  const m = /\/tickets\/(\d+)/.exec(new URL(page.url()).pathname);
  if (!m) throw new Error(`not on a ticket page: ${page.url()}`);
  return Number(m[1]);
}
