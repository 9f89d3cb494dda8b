/**
 * Debian's Chromium driven by playwright-core (no browser download), and what every page of a
 * journey goes through: its `lang`, an axe-core audit (no serious or critical violation) and,
 * for the main pages, screenshots at desktop and phone sizes.
 */
import fs from 'node:fs';
import path from 'node:path';
import axe from 'axe-core';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
  type Response,
} from 'playwright-core';
import type { Locale } from '../../../src/config';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SCREENSHOT_DIR = path.resolve(
  __dirname,
  '..',
  '..',
  '..',
  'test-artifacts',
  'screenshots',
);
export const AXE_DIR = path.join(SCREENSHOT_DIR, '..', 'axe');
export const DESKTOP = { width: 1366, height: 768 };
export const PHONE = { width: 390, height: 844 };

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (or set CHROMIUM_PATH)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface Visitor {
  context: BrowserContext;
  page: Page;
  locale: Locale;
  javaScript: boolean;
}

/**
 * A browser profile of its own (cookies, language). The CSP stays enforced: axe is injected
 * through the DevTools protocol, which the page's policy does not govern.
 */
export async function newVisitor(
  browser: Browser,
  baseUrl: string,
  locale: Locale,
  opts: { javaScript?: boolean } = {},
): Promise<Visitor> {
  const javaScript = opts.javaScript ?? true;
  const context = await browser.newContext({
    baseURL: baseUrl,
    locale: locale === 'fr' ? 'fr-FR' : 'en-GB',
    viewport: DESKTOP,
    javaScriptEnabled: javaScript,
    timezoneId: 'Europe/Paris',
  });
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    // A 4xx answer (a form error, the conflict page) is logged by Chromium; it is expected.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) {
      problems.push(m.text());
    }
  });
  page.on('pageerror', (e) => problems.push(e.message));
  (page as PageWithProblems).__problems = problems;
  return { context, page, locale, javaScript };
}

interface PageWithProblems extends Page {
  __problems?: string[];
}

/**
 * Runs `action` (a click, a submit, a goto) and waits for the main frame's next document:
 * its final response (after redirects) is returned once the page has loaded.
 */
export async function navigation(page: Page, action: () => Promise<unknown>): Promise<Response> {
  const isMain = (r: Response) =>
    r.request().isNavigationRequest() &&
    r.frame() === page.mainFrame() &&
    !(r.status() >= 300 && r.status() < 400);
  const [response] = await Promise.all([
    page.waitForResponse(isMain),
    page.waitForEvent('framenavigated', { predicate: (f) => f === page.mainFrame() }),
    action(),
  ]);
  await page.waitForLoadState('load');
  return response;
}

/** Submits through `button` and returns the final response. */
export function submit(page: Page, button: Locator): Promise<Response> {
  return navigation(page, () => button.click());
}

export async function open(page: Page, url: string): Promise<Response> {
  const response = await page.goto(url, { waitUntil: 'load' });
  if (!response) throw new Error(`no response for ${url}`);
  return response;
}

export interface AuditEntry {
  url: string;
  locale: Locale;
  violations: { id: string; impact: string; help: string; targets: string[] }[];
}

/** Every page audited by this test file, written to test-artifacts/axe/ at the end. */
export const audited: AuditEntry[] = [];

const SEVERE = new Set(['serious', 'critical']);

/**
 * The checks every page of a journey passes: `<html lang>` is the page's language, no
 * serious or critical axe violation, no console error (a CSP refusal shows there), and, when
 * `shot` names it, screenshots at desktop and phone sizes.
 */
export async function checkPage(visitor: Visitor, shot?: string): Promise<void> {
  const { page, locale } = visitor;
  const found: string[] = [];
  const lang = await page.locator('html').getAttribute('lang');
  if (lang !== locale) found.push(`<html lang="${lang}">, expected ${locale}`);
  // axe's run waits on timers, which never fire with JavaScript off; those runs see the same
  // pages as the runs with JavaScript, which audit them.
  if (visitor.javaScript) found.push(...(await runAxe(page, locale)));
  const duplicates = (await page.evaluate(`[...document.querySelectorAll('[id]')]
    .map((e) => e.id).filter((id, i, all) => all.indexOf(id) !== i)`)) as string[];
  // A label's `for` or an error link reaches only the first element with an id.
  if (duplicates.length) found.push(`duplicate ids: ${[...new Set(duplicates)].join(', ')}`);
  const logged = (page as PageWithProblems).__problems ?? [];
  if (logged.length)
    found.push(`errors in the browser console:\n    ${logged.splice(0).join('\n    ')}`);
  if (found.length) {
    const name = `FAILED-${locale}-${new URL(page.url()).pathname.replace(/\W+/g, '-')}`;
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
    throw new Error(`${page.url()}:\n  ${found.join('\n  ')}\n(screenshot: ${name}.png)`);
  }
  if (shot) await screenshots(page, `${locale}-${shot}`);
}

/** axe-core's serious and critical violations, one line each; every result goes to the report. */
async function runAxe(page: Page, locale: Locale): Promise<string[]> {
  if (!(await page.evaluate('typeof window.axe === "object"'))) {
    await page.evaluate(axe.source);
  }
  const result = (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => String(n.target)),
    })))`,
  )) as AuditEntry['violations'];
  audited.push({ url: new URL(page.url()).pathname, locale, violations: result });
  return result
    .filter((v) => SEVERE.has(v.impact))
    .map((v) => `axe ${v.impact} ${v.id}: ${v.help} → ${v.targets.join(' | ')}`);
}

/** Full-page screenshots at desktop and phone sizes under test-artifacts/screenshots/. */
export async function screenshots(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const before = page.viewportSize() ?? DESKTOP;
  for (const [size, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    await page.setViewportSize(viewport);
    await page.screenshot({
      path: path.join(SCREENSHOT_DIR, `${name}-${size}.png`),
      fullPage: true,
      animations: 'disabled',
    });
    await expectNoHorizontalScroll(page, `${name} at ${size} size`);
  }
  await page.setViewportSize(before);
}

/** A page wider than the phone screen means something overflows (a table, a long word). */
async function expectNoHorizontalScroll(page: Page, what: string): Promise<void> {
  const overflow = (await page.evaluate(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  )) as number;
  if (overflow > 0) throw new Error(`${what}: the page scrolls sideways by ${overflow}px`);
}

/** Writes this file's audit to test-artifacts/axe/<name>.json (CI keeps it as an artifact). */
export function writeAuditReport(name: string): void {
  fs.mkdirSync(AXE_DIR, { recursive: true });
  fs.writeFileSync(path.join(AXE_DIR, `${name}.json`), `${JSON.stringify(audited, null, 2)}\n`);
}
