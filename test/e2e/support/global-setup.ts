import fs from 'node:fs';
import sharedSetup from '../../support/global-setup';
import { AXE_DIR, SCREENSHOT_DIR } from './browser';

/** The shared database setup, plus a clean artifacts folder that the run names. */
export default async function globalSetup(): Promise<void> {
  // Only this suite's folders: other tools may keep their own results beside them.
  for (const dir of [SCREENSHOT_DIR, AXE_DIR]) fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  process.stdout.write(`\nScreenshots: ${SCREENSHOT_DIR}\naxe reports: ${AXE_DIR}\n`);
  await sharedSetup();
}
