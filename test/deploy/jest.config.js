/**
 * Deployment suite: `npm run test:deploy` (builds first). Nginx in front of two Guichet
 * processes, backup/restore, the Dockerfile's steps, Compose/Render files, systemd units.
 * Needs a PostgreSQL (TEST_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres)
 * and the Debian packages nginx, openssl, postgresql-client, systemd. A missing tool skips
 * its tests with the reason in the test name; DEPLOY_TESTS_REQUIRE_ALL=1 makes it a failure.
 */
/** @type {import('jest').Config} */
module.exports = {
  rootDir: '../..',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  roots: ['<rootDir>/test/deploy'],
  testMatch: ['<rootDir>/test/deploy/**/*.test.ts'],
  testTimeout: 180000,
  maxWorkers: 1,
  verbose: true,
};
