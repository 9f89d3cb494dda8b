import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ConfigError,
  defaultPoolSize,
  EXAMPLE_SECRET_KEY,
  loadConfig,
  type Env,
} from '../../src/config';

function problemsOf(env: Env): string[] {
  try {
    loadConfig(env, '/srv/guichet');
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('config', () => {
  test('when nothing is set, then the embedded database and the documented defaults apply', () => {
    const c = loadConfig({}, '/srv/guichet');
    expect(c.port).toBe(3000);
    expect(c.baseUrl).toBe('http://localhost:3000');
    expect(c.database).toEqual({ kind: 'embedded', dataDir: '/srv/guichet/data/postgres' });
    expect(c.uploadDir).toBe('/srv/guichet/data/uploads');
    expect(c.maxUploadBytes).toBe(10 * 1024 * 1024);
    expect(c.sessionIdleMinutes).toBe(1440);
    expect(c.defaultLocale).toBe('fr');
    expect(c.email.smtp).toBeNull();
    expect(c.secretKey).toBeUndefined();
  });

  test('when the hosting guide POSTGRES_* names are set, then they build the connection', () => {
    const c = loadConfig({
      POSTGRES_HOST: 'db',
      POSTGRES_USER: 'tickets',
      POSTGRES_PASSWORD: 'p@ss word',
      POSTGRES_DB: 'tickets',
    });
    expect(c.database).toEqual({
      kind: 'external',
      connectionString: 'postgres://tickets:p%40ss%20word@db:5432/tickets',
      ssl: false,
    });
  });

  test('when DATABASE_POOL_SIZE is unset, set or junk, then twice the cores (2 to 10), the value, or a refusal', () => {
    expect([1, 2, 3, 8].map((cores) => defaultPoolSize(cores))).toEqual([2, 4, 6, 10]);
    expect(loadConfig({}).databasePoolSize).toBe(defaultPoolSize());
    expect(loadConfig({ DATABASE_POOL_SIZE: '12' }).databasePoolSize).toBe(12);
    for (const junk of ['0', '1', 'ten', '101']) {
      expect(problemsOf({ DATABASE_POOL_SIZE: junk })).toEqual([
        'DATABASE_POOL_SIZE: use a whole number of connections between 2 and 100, such as 4',
      ]);
    }
  });

  test('when DATABASE_URL asks for sslmode=require, then TLS is used', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://u:p@h:5432/d?sslmode=require' });
    expect(c.database).toMatchObject({ kind: 'external', ssl: { rejectUnauthorized: false } });
  });

  test('when several variables are invalid, then each is reported on its own line', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      MAX_UPLOAD_MB: '-1',
      DEFAULT_LOCALE: 'de',
      APP_URL: 'support.example.com',
      USE_TLS: 'maybe',
    });
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(
      ['APP_URL', 'DEFAULT_LOCALE', 'MAX_UPLOAD_MB', 'PORT', 'USE_TLS'].sort(),
    );
    for (const p of problems) expect(p).toMatch(/^[A-Z_]+: .*\S/);
  });

  test('when production has a short, missing or example SECRET_KEY, then it is refused', () => {
    expect(problemsOf({ NODE_ENV: 'production', SECRET_KEY: 'short' })).toEqual([
      expect.stringMatching(/^SECRET_KEY: .*32 characters/),
    ]);
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual([
      expect.stringMatching(/^SECRET_KEY: required/),
    ]);
    expect(problemsOf({ NODE_ENV: 'production', SECRET_KEY: EXAMPLE_SECRET_KEY })).toEqual([
      expect.stringMatching(/^SECRET_KEY: still the example/),
    ]);
    expect(problemsOf({ NODE_ENV: 'production', SECRET_KEY: 'x'.repeat(40) })).toEqual([]);
  });

  test('when a secret comes from NAME_FILE, then the file content is used', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cfg-')), 'secret');
    fs.writeFileSync(file, 'from-a-docker-secret-that-is-long-enough\n');
    const c = loadConfig({ SECRET_KEY_FILE: file, SMTP_PASSWORD_FILE: file });
    expect(c.secretKey).toBe('from-a-docker-secret-that-is-long-enough');
    expect(problemsOf({ SECRET_KEY_FILE: '/nonexistent/secret' })).toEqual([
      expect.stringMatching(/^SECRET_KEY_FILE: cannot read/),
    ]);
  });

  test('when SMTP is configured, then USE_TLS picks implicit TLS on 465 and STARTTLS elsewhere', () => {
    const base = { SMTP_SERVER: 'smtp.example.com', SENDER_EMAIL: 'it@example.com' };
    expect(loadConfig({ ...base, SMTP_PORT: '465' }).email.smtp).toMatchObject({
      secure: true,
      requireTLS: false,
    });
    expect(loadConfig({ ...base }).email.smtp).toMatchObject({
      port: 587,
      secure: false,
      requireTLS: true,
    });
    expect(loadConfig({ ...base, USE_TLS: 'false', VERIFY_SSL: 'false' }).email.smtp).toMatchObject(
      {
        port: 25,
        requireTLS: false,
        rejectUnauthorized: false,
      },
    );
    expect(problemsOf({ SMTP_SERVER: 'smtp.example.com' })).toEqual([
      expect.stringMatching(/^SENDER_EMAIL: /),
    ]);
  });

  test('when only one of ADMIN_EMAIL and ADMIN_PASSWORD is set, then it is refused', () => {
    expect(problemsOf({ ADMIN_EMAIL: 'boss@example.com' })).toEqual([
      expect.stringMatching(/^ADMIN_EMAIL: /),
    ]);
    expect(
      loadConfig({ ADMIN_EMAIL: 'boss@example.com', ADMIN_PASSWORD: 'long-enough-pw' }).firstAdmin,
    ).toEqual({ email: 'boss@example.com', password: 'long-enough-pw' });
  });

  test('when the login limits are unset, raised or junk, then 5 and 50 apply, the new values, or a refusal', () => {
    expect(loadConfig({}, '/srv/guichet').loginThrottle).toEqual({ perAccount: 5, perAddress: 50 });
    expect(
      loadConfig(
        { LOGIN_MAX_FAILURES_PER_ACCOUNT: '1000', LOGIN_MAX_FAILURES_PER_ADDRESS: '20000' },
        '/srv/guichet',
      ).loginThrottle,
    ).toEqual({ perAccount: 1000, perAddress: 20000 });
    expect(problemsOf({ LOGIN_MAX_FAILURES_PER_ACCOUNT: '0' })[0]).toMatch(
      /^LOGIN_MAX_FAILURES_PER_ACCOUNT: /,
    );
  });
});
