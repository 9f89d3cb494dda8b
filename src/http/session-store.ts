import connectPgSimple from 'connect-pg-simple';
import type { NextFunction, Request, Response } from 'express';
import type session from 'express-session';
import type pg from 'pg';
import { statementName } from '../db/prepared';

/** How often one process moves a session's expiry forward in the database. */
export const TOUCH_EVERY_MS = 60_000;
const MAX_REMEMBERED = 50_000;

/**
 * connect-pg-simple's store, except that a session still in use has its expiry moved forward
 * at most once a minute by each process, instead of an UPDATE on every page: the idle limit
 * is counted in hours, and that write was one of the three queries every page paid.
 */
export function pgSessionStore(
  sessionModule: typeof session,
  options: ConstructorParameters<ReturnType<typeof connectPgSimple>>[0] & { pool: pg.Pool },
  touchEveryMs = TOUCH_EVERY_MS,
): session.Store {
  const PgStore = connectPgSimple(sessionModule);
  class ThrottledStore extends PgStore {
    private readonly touched = new Map<string, number>();

    override touch(sid: string, sess: session.SessionData, fn?: (err?: unknown) => void): void {
      const now = Date.now();
      const last = this.touched.get(sid);
      if (last !== undefined && now - last < touchEveryMs) {
        fn?.();
        return;
      }
      if (this.touched.size >= MAX_REMEMBERED) this.forgetOlderThan(now - touchEveryMs);
      this.touched.set(sid, now);
      super.touch(sid, sess, fn as Parameters<InstanceType<typeof PgStore>['touch']>[2]);
    }

    private forgetOlderThan(limit: number): void {
      for (const [sid, at] of this.touched) if (at < limit) this.touched.delete(sid);
      // Still full (a burst of fresh sessions): start over rather than grow without bound.
      if (this.touched.size >= MAX_REMEMBERED) this.touched.clear();
    }
  }
  return new ThrottledStore({ ...options, pool: withNamedStatements(options.pool) });
}

/**
 * The pool as the store uses it (its `query` alone), each of its statements named: PostgreSQL
 * parses and plans the session's SELECT once per connection instead of on every page, where
 * that cost eight times its execution (about 0.25 ms of the database's time a page).
 *
 * A plan kept that way is made for the table as it is then. Made while the table held a few
 * sessions (a new install, the hour after a purge), it read the whole table, and stayed that
 * plan as the table grew, until an ANALYZE changed its statistics (never, with autovacuum off):
 * every page then read every session, 16 ms a page at 70,000 of them (the login page makes one
 * per visitor). So the store's connections have sequential scans off, set once on each before
 * its first statement: their plans use the table's indexes whatever its size when made.
 */
function withNamedStatements(pool: pg.Pool): pg.Pool {
  const indexedOnly = new WeakSet<pg.PoolClient>();
  const named = {
    query: async (text: string, values?: unknown[]) => {
      const client = await pool.connect();
      // A connection that ends while out of the pool (a database restart, a network failure)
      // emits 'error' on its client, which the pool only hears on idle ones: unheard, that
      // event ends the process. Heard here, it fails this lookup, as pool.query does.
      let lost: Error | undefined;
      const onError = (err: Error) => (lost = err);
      client.on('error', onError);
      try {
        if (!indexedOnly.has(client)) {
          await client.query('set enable_seqscan = off');
          indexedOnly.add(client);
        }
        return await client.query({ text, values, name: statementName(text) });
      } catch (err) {
        lost ??= err as Error;
        throw err;
      } finally {
        // As pool.query does: a connection that failed, or was lost even just after its
        // answer, is not given out again.
        client.off('error', onError);
        client.release(lost);
      }
    },
  };
  return named as unknown as pg.Pool;
}

/**
 * Browsers follow a redirect as soon as its headers arrive, while express-session writes the
 * session only as the response ends: the next page could read the old session (a flash message
 * lost or shown a page late; after a login, a CSRF secret made twice and the next form refused).
 * A form post changes the session before its redirect, so the session is saved first there.
 */
export function saveSessionBeforeRedirect(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD') return next();
  const redirect = res.redirect.bind(res) as (...args: unknown[]) => void;
  res.redirect = ((...args: unknown[]) => {
    if (!req.session) return redirect(...args);
    req.session.save((err) => (err ? next(err) : redirect(...args)));
  }) as Response['redirect'];
  next();
}
