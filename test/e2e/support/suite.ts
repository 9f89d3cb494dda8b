import type { Browser } from 'playwright-core';
import type { Locale } from '../../../src/config';
import { launchChromium, newVisitor, writeAuditReport, type Visitor } from './browser';
import { startStack, type Stack } from './stack';

export interface Suite {
  browser: Browser;
  stack: Stack;
}

/**
 * One Chromium and one Guichet (with its SMTP server) for a test file, started before its
 * tests and stopped after them, when the file's axe report is written.
 */
export function browserSuite(report: string, env?: Record<string, string>): Suite {
  const suite = {} as Suite;
  beforeAll(async () => {
    [suite.browser, suite.stack] = await Promise.all([launchChromium(), startStack(env)]);
  });
  afterAll(async () => {
    await suite.browser?.close();
    await suite.stack?.stop();
    writeAuditReport(report);
  });
  return suite;
}

/**
 * Opens visitors (browser contexts) for one group of tests and closes them after the group.
 * `target` is read when a visitor opens, since the browser and the app start in a beforeAll.
 */
export function visitorsOf(
  target: () => { browser: Browser; baseUrl: string },
  locale: Locale,
  opts: { javaScript?: boolean } = {},
): () => Promise<Visitor> {
  const opened: Visitor[] = [];
  afterAll(async () => {
    for (const v of opened) await v.context.close();
  });
  return async () => {
    const { browser, baseUrl } = target();
    const v = await newVisitor(browser, baseUrl, locale, opts);
    opened.push(v);
    return v;
  };
}
