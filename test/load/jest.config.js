/**
 * Load and faults: `npm run test:load` (builds first when a source changed). Real Guichet
 * processes (dist/), an embedded PostgreSQL that the test stops and starts again, a real SMTP
 * server that refuses for a while; about two minutes of traffic on loopback, then the checks.
 * See test/load/load.test.ts.
 */
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  roots: ['<rootDir>/test/load'],
  testMatch: ['<rootDir>/test/load/**/*.test.ts'],
  testTimeout: 900000,
  maxWorkers: 1,
  verbose: true,
};
