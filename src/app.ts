import crypto from 'node:crypto';
import path from 'node:path';
import cookieParser from 'cookie-parser';
import express, { type Express } from 'express';
import session from 'express-session';
import helmet from 'helmet';
import type { Knex } from 'knex';
import type pg from 'pg';
import { pinoHttp } from 'pino-http';
import { accountRoutes } from './account/account.routes';
import { adminCategoryRoutes } from './admin/categories.routes';
import { adminOutboxRoutes } from './admin/outbox.routes';
import { adminSettingsRoutes } from './admin/settings.routes';
import { adminUserRoutes } from './admin/users.routes';
import { authRoutes } from './auth/auth.routes';
import { passwordRoutes } from './auth/password.routes';
import { createPassport } from './auth/passport';
import { DEFAULT_LOGIN_RULES, Throttle, type ThrottleRules } from './auth/throttle';
import type { Config } from './config';
import { benchmarkFloorRoutes, healthRoutes } from './health/health.routes';
import { dashboardRoutes } from './dashboard/dashboard.routes';
import { ticketRoutes } from './tickets/tickets.routes';
import { homeRoutes } from './home/home.routes';
import { csrfProtection, originCheck } from './http/csrf';
import { errorHandler, lateErrorHandler, notFound } from './http/error-handler';
import { exposeFlash } from './http/flash';
import { dropNulBytesFromBody, parseQuery } from './http/nul-bytes';
import { viewHelpers } from './http/locals';
import { pgSessionStore, saveSessionBeforeRedirect } from './http/session-store';
import { applyUserLocale, resolveLocale } from './http/locale';
import { sendPagesAsBytes, viewEngine } from './http/views';
import type { Logger } from './logger';
import type { Mailer } from './notifications/mailer';
import { createOutbox, type Outbox } from './notifications/outbox';
import { PROJECT_ROOT } from './paths';

export const SESSION_COOKIE = 'guichet.sid';

export interface AppDeps {
  config: Config;
  db: Knex;
  /** The pool connect-pg-simple stores sessions through. */
  sessionPool: pg.Pool;
  logger: Logger;
  clock?: () => Date;
  loginThrottle?: ThrottleRules;
  /** How long the dashboard's figures are shared (default one minute; 0 in most tests). */
  dashboardCacheMs?: number;
  /** How long the queue's counts and filter choices are shared (default five seconds). */
  queueFacetsCacheMs?: number;
  /** Delivers emails (admin test button); the outbox writes them in any case. */
  mailer?: Mailer;
  outbox?: Outbox;
}

export const paths = {
  views: path.join(PROJECT_ROOT, 'views'),
  public: path.join(PROJECT_ROOT, 'public'),
};

/** Removes secrets from URLs before they reach a log line. */
function redactUrl(url: string | undefined): string | undefined {
  return url
    ?.replace(/([?&](?:token|_csrf)=)[^&]*/g, '$1[redacted]')
    .replace(/(\/password\/reset\/)[^/?]+/, '$1[redacted]');
}

export function createApp(deps: AppDeps): Express {
  const { config, db, logger } = deps;
  const clock = deps.clock ?? (() => new Date());
  const outbox = deps.outbox ?? createOutbox(config, paths.views);
  if (!config.secretKey) throw new Error('createApp needs config.secretKey');
  const app = express();
  app.set('trust proxy', config.trustProxy);
  app.set('query parser', parseQuery);
  app.set('view engine', 'ejs');
  app.set('views', paths.views);
  app.engine('ejs', viewEngine(paths.views));
  app.disable('x-powered-by');
  // Pages are made per request and never cached: hashing each one for an ETag is wasted work.
  app.set('etag', false);
  if (config.isProd) app.enable('view cache');
  sendPagesAsBytes(app);

  app.use(
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id =
          typeof incoming === 'string' && /^[\w.-]{1,100}$/.test(incoming)
            ? incoming
            : crypto.randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      customLogLevel: (_req, res, err) =>
        err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'info' : 'debug',
      serializers: {
        req: (req) => ({ id: req.id, method: req.method, url: redactUrl(req.url) }),
        res: (res) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/readyz' },
    }),
  );

  app.use(
    helmet({
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'script-src': ["'self'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
          // Behind plain HTTP (evaluation) upgrading would break every asset.
          'upgrade-insecure-requests': config.baseUrl.startsWith('https:') ? [] : null,
        },
      },
      strictTransportSecurity: config.baseUrl.startsWith('https:'),
      // With helmet's default `no-referrer`, browsers send `Origin: null` on form posts,
      // which the origin check must refuse; same-origin keeps both headers meaningful.
      referrerPolicy: { policy: 'same-origin' },
    }),
  );

  app.use(
    '/static',
    express.static(paths.public, {
      maxAge: config.isProd ? '7d' : 0,
      fallthrough: true,
      index: false,
    }),
  );
  app.use(healthRoutes({ db }));

  app.use(cookieParser());
  app.use(resolveLocale(config.defaultLocale));
  app.use(express.urlencoded({ extended: false, limit: '1mb', parameterLimit: 1000 }));
  app.use(dropNulBytesFromBody);

  app.use(
    session({
      name: SESSION_COOKIE,
      secret: config.secretKey,
      store: pgSessionStore(session, {
        pool: deps.sessionPool,
        tableName: 'session',
        createTableIfMissing: false,
        pruneSessionInterval: config.env === 'test' ? false : 15 * 60,
        errorLog: (...args: unknown[]) => logger.warn({ detail: String(args[0]) }, 'session store'),
      }),
      resave: false,
      saveUninitialized: false,
      rolling: true,
      cookie: {
        httpOnly: true,
        sameSite: 'lax',
        secure: 'auto',
        maxAge: config.sessionIdleMinutes * 60 * 1000,
      },
    }),
  );
  const passport = createPassport(db);
  app.use(passport.initialize());
  app.use(passport.session());
  if (config.benchmarkFloor) app.use(benchmarkFloorRoutes());
  app.use(applyUserLocale);
  app.use(viewHelpers(config, clock));
  app.use(originCheck(config));
  app.use(csrfProtection());
  app.use(exposeFlash);
  app.use(saveSessionBeforeRedirect);

  const throttle = new Throttle(
    db,
    'login',
    deps.loginThrottle ?? { ...DEFAULT_LOGIN_RULES, ...config.loginThrottle },
  );
  app.use(
    authRoutes({ db, passport, throttle, secureCookies: config.baseUrl.startsWith('https:') }),
  );
  app.use(passwordRoutes({ db, config, outbox, clock }));
  app.use(homeRoutes());
  app.use(ticketRoutes({ db, config, clock, outbox, facetsCacheMs: deps.queueFacetsCacheMs }));
  app.use(dashboardRoutes({ db, config, clock, cacheMs: deps.dashboardCacheMs }));
  app.use(accountRoutes({ db }));
  app.use(adminUserRoutes({ db, config, outbox, clock }));
  app.use(adminCategoryRoutes({ db }));
  app.use(adminOutboxRoutes({ db, config, logger, mailer: deps.mailer }));
  app.use(adminSettingsRoutes({ db, config }));

  app.use(notFound);
  app.use(errorHandler({ logger, showStack: config.env === 'development' }));
  app.use(lateErrorHandler(logger));
  return app;
}
