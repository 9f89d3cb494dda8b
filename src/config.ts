import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/** The value `.env.example` ships with; production refuses it. */
export const EXAMPLE_SECRET_KEY = 'change-me-to-64-random-characters-openssl-rand-hex-32';

export const LOCALES = ['fr', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

const bool = (fix: string) =>
  z
    .string()
    .trim()
    .toLowerCase()
    .refine((v) => ['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'].includes(v), fix)
    .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

const int = (min: number, max: number, fix: string) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, fix)
    .transform(Number)
    .refine((n) => n >= min && n <= max, fix);

const url = (fix: string) =>
  z
    .string()
    .trim()
    .refine((v) => {
      try {
        return ['http:', 'https:'].includes(new URL(v).protocol);
      } catch {
        return false;
      }
    }, fix)
    .transform((v) => v.replace(/\/+$/, ''));

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test'], {
    error: 'use development, production or test',
  }),
  PORT: int(1, 65535, 'use a TCP port number between 1 and 65535'),
  HOST: z.string().trim().min(1, 'use an address to listen on, such as 0.0.0.0 or 127.0.0.1'),
  APP_URL: url('use the public base URL, such as https://support.example.com').optional(),
  ALLOWED_ORIGINS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(url('use a comma-separated list of origins, such as https://intranet.example.com')),
    ),
  TRUST_PROXY: z
    .string()
    .trim()
    .refine(
      (v) => /^(true|false|1|0|yes|no|on|off|\d+|loopback|[0-9a-f.:/, ]+)$/i.test(v) || v === '',
      'use true, a number of proxies, or the proxy addresses (see Express "trust proxy")',
    ),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    error: 'use one of fatal, error, warn, info, debug, trace, silent',
  }),
  DATA_DIR: z.string().trim().min(1, 'use a writable directory'),
  UPLOAD_DIR: z.string().trim().optional(),
  MAX_UPLOAD_MB: int(1, 1024, 'use a whole number of megabytes between 1 and 1024'),
  DEFAULT_LOCALE: z.enum(LOCALES, { error: 'use fr or en' }),
  TZ: z
    .string()
    .trim()
    .refine((v) => {
      if (!v) return true;
      try {
        new Intl.DateTimeFormat('en', { timeZone: v });
        return true;
      } catch {
        return false;
      }
    }, 'use an IANA time zone such as Europe/Paris')
    .optional(),
  AUTO_CLOSE_DAYS: int(1, 365, 'use a whole number of days between 1 and 365'),
  DATABASE_URL: z
    .string()
    .trim()
    .refine(
      (v) => /^postgres(ql)?:\/\//.test(v),
      'use a postgres://user:password@host:5432/database URL',
    )
    .optional(),
  DATABASE_POOL_SIZE: int(
    2,
    100,
    'use a whole number of connections between 2 and 100, such as 4',
  ).optional(),
  POSTGRES_HOST: z.string().trim().optional(),
  POSTGRES_PORT: int(1, 65535, 'use the PostgreSQL port, usually 5432').optional(),
  POSTGRES_USER: z.string().trim().optional(),
  POSTGRES_PASSWORD: z.string().optional(),
  POSTGRES_DB: z.string().trim().optional(),
  SECRET_KEY: z.string().optional(),
  ACCESS_TOKEN_EXPIRE_MINUTES: int(
    1,
    525600,
    'use the session idle lifetime in minutes, such as 1440',
  ),
  EMAIL_ENABLED: bool('use true or false'),
  SMTP_SERVER: z.string().trim().optional(),
  SMTP_PORT: int(1, 65535, 'use the SMTP port: 587 (STARTTLS), 465 (TLS) or 25').optional(),
  SMTP_USERNAME: z.string().optional(),
  SMTP_PASSWORD: z.string().optional(),
  SENDER_EMAIL: z.email({ error: 'use the address emails are sent from' }).optional(),
  SENDER_NAME: z.string().trim().min(1, 'use the display name of the sender'),
  USE_TLS: bool('use true or false'),
  VERIFY_SSL: bool('use true or false'),
  ADMIN_EMAIL: z.email({ error: 'use the email address of the first admin' }).optional(),
  ADMIN_PASSWORD: z.string().optional(),
  LOGIN_MAX_FAILURES_PER_ACCOUNT: int(
    1,
    1000000,
    'use the number of wrong passwords that blocks an account for 15 minutes, such as 5',
  ),
  LOGIN_MAX_FAILURES_PER_ADDRESS: int(
    1,
    1000000,
    'use the number of failed logins that blocks a client address for 15 minutes, such as 50',
  ),
  BENCHMARK_FLOOR: bool('use true or false'),
});

const DEFAULTS: Record<string, string> = {
  NODE_ENV: 'development',
  PORT: '3000',
  HOST: '0.0.0.0',
  ALLOWED_ORIGINS: '',
  TRUST_PROXY: 'false',
  LOG_LEVEL: 'info',
  DATA_DIR: 'data',
  MAX_UPLOAD_MB: '10',
  DEFAULT_LOCALE: 'fr',
  AUTO_CLOSE_DAYS: '7',
  ACCESS_TOKEN_EXPIRE_MINUTES: '1440',
  EMAIL_ENABLED: 'true',
  SENDER_NAME: 'Guichet',
  USE_TLS: 'true',
  VERIFY_SSL: 'true',
  LOGIN_MAX_FAILURES_PER_ACCOUNT: '5',
  LOGIN_MAX_FAILURES_PER_ADDRESS: '50',
  BENCHMARK_FLOOR: 'false',
};

const SECRET_NAMES = Object.keys(schema.shape);

/**
 * Reads `NAME_FILE` variants (Docker secrets) and drops empty values, so that `FOO=` in a
 * `.env` means "unset" rather than "empty string".
 */
function resolveEnv(env: Env, problems: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of SECRET_NAMES) {
    const direct = env[name];
    const file = env[`${name}_FILE`];
    if (direct !== undefined && direct !== '') {
      out[name] = direct;
    } else if (file) {
      try {
        out[name] = fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      } catch {
        problems.push(`${name}_FILE: cannot read ${file}; point it at a readable file`);
      }
    } else if (DEFAULTS[name] !== undefined) {
      out[name] = DEFAULTS[name];
    }
  }
  return out;
}

export type DatabaseTarget =
  | { kind: 'embedded'; dataDir: string }
  | { kind: 'external'; connectionString: string; ssl: boolean | { rejectUnauthorized: boolean } };

export interface SmtpConfig {
  host: string;
  port: number;
  secure: boolean;
  requireTLS: boolean;
  user?: string;
  password?: string;
  rejectUnauthorized: boolean;
}

export interface Config {
  env: 'development' | 'production' | 'test';
  isProd: boolean;
  port: number;
  host: string;
  baseUrl: string;
  allowedOrigins: string[];
  trustProxy: boolean | number | string;
  logLevel: string;
  dataDir: string;
  uploadDir: string;
  maxUploadBytes: number;
  defaultLocale: Locale;
  timeZone: string;
  autoCloseDays: number;
  database: DatabaseTarget;
  /**
   * Connections the app's queries share (DATABASE_POOL_SIZE); the session lookups have half
   * as many of their own. See defaultPoolSize.
   */
  databasePoolSize: number;
  /** undefined until resolved: development generates one per data directory. */
  secretKey: string | undefined;
  sessionIdleMinutes: number;
  email: {
    enabled: boolean;
    smtp: SmtpConfig | null;
    from: { address: string; name: string };
    outboxDir: string;
  };
  firstAdmin: { email: string; password: string } | null;
  /** Failed logins before an account, or a client address, is blocked for 15 minutes. */
  loginThrottle: { perAccount: number; perAddress: number };
  /**
   * Serve GET /bench/floor, the benchmark's yardstick (`npm run bench`): a page that only
   * loads the session and renders a tiny template. Off unless BENCHMARK_FLOOR is set, so a
   * normal install exposes no route that serves no user; it is allowed in production because
   * the benchmark measures the production setup, and harmless there (it shows the viewer's
   * own name and costs less than any real page).
   */
  benchmarkFloor: boolean;
}

/**
 * Twice the cores of the machine, from 2 to 10: the usual rule for a PostgreSQL on the same
 * machine (the embedded one, a Compose stack, one VPS). A Node process runs its JavaScript on
 * one core, and each of its queries is short: connections beyond what the cores can run at
 * once only make the database's processes take turns with the server's own thread. On a
 * 2-core machine, 4 connections instead of 10 (and 2 for the sessions instead of 5) served
 * about 25 % more searches a second at 50 concurrent users, and 9 % more queue pages
 * (`npm run bench`, each page's share of the floor).
 */
export function defaultPoolSize(cores = os.availableParallelism()): number {
  return Math.min(10, Math.max(2, 2 * cores));
}

function parseTrustProxy(v: string): boolean | number | string {
  const s = v.trim().toLowerCase();
  if (['', 'false', '0', 'no', 'off'].includes(s)) return false;
  if (['true', 'yes', 'on'].includes(s)) return true;
  if (/^\d+$/.test(s)) return Number(s);
  return v.trim();
}

function databaseFrom(v: z.infer<typeof schema>, dataDir: string): DatabaseTarget {
  if (v.DATABASE_URL) {
    const sslmode = new URL(v.DATABASE_URL).searchParams.get('sslmode');
    const ssl =
      sslmode === 'require' || sslmode === 'prefer'
        ? { rejectUnauthorized: false }
        : sslmode === 'verify-ca' || sslmode === 'verify-full'
          ? { rejectUnauthorized: true }
          : false;
    return { kind: 'external', connectionString: v.DATABASE_URL, ssl };
  }
  if (v.POSTGRES_HOST || v.POSTGRES_DB || v.POSTGRES_USER) {
    const u = new URL('postgres://localhost');
    u.hostname = v.POSTGRES_HOST ?? 'localhost';
    u.port = String(v.POSTGRES_PORT ?? 5432);
    u.username = encodeURIComponent(v.POSTGRES_USER ?? 'postgres');
    if (v.POSTGRES_PASSWORD) u.password = encodeURIComponent(v.POSTGRES_PASSWORD);
    u.pathname = `/${encodeURIComponent(v.POSTGRES_DB ?? 'guichet')}`;
    return { kind: 'external', connectionString: u.toString(), ssl: false };
  }
  return { kind: 'embedded', dataDir: path.resolve(dataDir, 'postgres') };
}

/** Parses the environment once. Throws a ConfigError listing every invalid variable. */
export function loadConfig(env: Env = process.env, cwd = process.cwd()): Config {
  const problems: string[] = [];
  const raw = resolveEnv(env, problems);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0]);
      problems.push(`${name}: ${issue.message}`);
    }
    throw new ConfigError(problems);
  }
  const v = parsed.data;
  const isProd = v.NODE_ENV === 'production';

  if (v.SECRET_KEY !== undefined) {
    if (isProd && v.SECRET_KEY.length < 32) {
      problems.push(
        'SECRET_KEY: must be at least 32 characters in production; generate one with `openssl rand -hex 32`',
      );
    } else if (isProd && v.SECRET_KEY === EXAMPLE_SECRET_KEY) {
      problems.push(
        'SECRET_KEY: still the example value from .env.example; generate one with `openssl rand -hex 32`',
      );
    }
  } else if (isProd) {
    problems.push('SECRET_KEY: required in production; generate one with `openssl rand -hex 32`');
  }
  if (v.SMTP_SERVER && !v.SENDER_EMAIL) {
    problems.push(
      'SENDER_EMAIL: required when SMTP_SERVER is set; use the address emails come from',
    );
  }
  if ((v.ADMIN_EMAIL && !v.ADMIN_PASSWORD) || (!v.ADMIN_EMAIL && v.ADMIN_PASSWORD)) {
    problems.push('ADMIN_EMAIL: set both ADMIN_EMAIL and ADMIN_PASSWORD, or neither');
  } else if (v.ADMIN_PASSWORD !== undefined && v.ADMIN_PASSWORD.length < 10) {
    problems.push('ADMIN_PASSWORD: use at least 10 characters');
  }
  if (problems.length) throw new ConfigError(problems);

  const dataDir = path.resolve(cwd, v.DATA_DIR);
  const smtpPort = v.SMTP_PORT ?? (v.USE_TLS ? 587 : 25);
  return Object.freeze({
    env: v.NODE_ENV,
    isProd,
    port: v.PORT,
    host: v.HOST,
    baseUrl: v.APP_URL ?? `http://localhost:${v.PORT}`,
    allowedOrigins: v.ALLOWED_ORIGINS.map((o) => new URL(o).origin),
    trustProxy: parseTrustProxy(v.TRUST_PROXY),
    logLevel: v.LOG_LEVEL,
    dataDir,
    uploadDir: path.resolve(cwd, v.UPLOAD_DIR || path.join(v.DATA_DIR, 'uploads')),
    maxUploadBytes: v.MAX_UPLOAD_MB * 1024 * 1024,
    defaultLocale: v.DEFAULT_LOCALE,
    timeZone: v.TZ || Intl.DateTimeFormat().resolvedOptions().timeZone,
    autoCloseDays: v.AUTO_CLOSE_DAYS,
    database: databaseFrom(v, dataDir),
    databasePoolSize: v.DATABASE_POOL_SIZE ?? defaultPoolSize(),
    secretKey: v.SECRET_KEY,
    sessionIdleMinutes: v.ACCESS_TOKEN_EXPIRE_MINUTES,
    email: {
      enabled: v.EMAIL_ENABLED,
      smtp: v.SMTP_SERVER
        ? {
            host: v.SMTP_SERVER,
            port: smtpPort,
            // USE_TLS: implicit TLS on 465, STARTTLS required on any other port.
            secure: v.USE_TLS && smtpPort === 465,
            requireTLS: v.USE_TLS && smtpPort !== 465,
            user: v.SMTP_USERNAME,
            password: v.SMTP_PASSWORD,
            rejectUnauthorized: v.VERIFY_SSL,
          }
        : null,
      from: { address: v.SENDER_EMAIL ?? 'guichet@localhost', name: v.SENDER_NAME },
      outboxDir: path.join(dataDir, 'mail'),
    },
    firstAdmin:
      v.ADMIN_EMAIL && v.ADMIN_PASSWORD
        ? { email: v.ADMIN_EMAIL, password: v.ADMIN_PASSWORD }
        : null,
    loginThrottle: {
      perAccount: v.LOGIN_MAX_FAILURES_PER_ACCOUNT,
      perAddress: v.LOGIN_MAX_FAILURES_PER_ADDRESS,
    },
    benchmarkFloor: v.BENCHMARK_FLOOR,
  });
}

/** Loads `.env` from the working directory when there is one; real variables win. */
export function loadDotEnv(cwd = process.cwd()): void {
  const file = path.join(cwd, '.env');
  if (fs.existsSync(file)) process.loadEnvFile(file);
}

/**
 * For entry points (server, CLIs): loads `.env` and the configuration, or prints every
 * problem, one line each, and exits non-zero.
 */
export function loadConfigOrExit(what = 'Guichet'): Config {
  try {
    loadDotEnv();
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${what} cannot start, the configuration is invalid:\n`);
      for (const p of err.problems) process.stderr.write(`  ${p}\n`);
      process.exit(1);
    }
    throw err;
  }
}
