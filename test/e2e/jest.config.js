/**
 * Browser suite: `npm run test:e2e` (builds first). Each file starts the real server
 * (dist/src/server.js) on a throw-away database with a real SMTP server on loopback, and drives
 * Debian's Chromium (/usr/bin/chromium) through playwright-core. Screenshots and axe reports go
 * to test-artifacts/ (printed at the start of the run).
 */
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  roots: ['<rootDir>/test/e2e'],
  testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
  globalSetup: '<rootDir>/test/e2e/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 90000,
  // Two cores: one server and one Chromium at a time keep the timings honest.
  maxWorkers: 1,
  verbose: true,
};
