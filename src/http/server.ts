import http from 'node:http';
import type net from 'node:net';
import type { Express } from 'express';

/**
 * An HTTP server for an Express app whose requests and responses are created with the app's
 * prototypes (`app.request`, `app.response`) instead of receiving them afterwards.
 *
 * Express gives every request and response it handles its own prototype with
 * Object.setPrototypeOf. On a fresh object that costs V8 more than the call: measured on this
 * app's Node, a minimal Express app saw about a third of what it allocated survive each young
 * collection and be promoted to the old generation (3.4 MB per scavenge with a single user),
 * against none for the same objects made with the prototype already; the old generation then
 * needs full collections, and every page paid for them. When the prototype is already the
 * right one, Express's call changes nothing. Sub-apps (none here) would still set theirs.
 */
export function expressServer(app: Express): AppServer {
  const handling = new Handling();
  function Request(this: http.IncomingMessage, socket: net.Socket) {
    Reflect.apply(http.IncomingMessage, this, [socket]);
  }
  Request.prototype = app.request;
  function Response(this: Counted, req: http.IncomingMessage, options?: object) {
    Reflect.apply(http.ServerResponse, this, [req, options]);
    this[HANDLING] = handling;
    handling.count++;
  }
  Response.prototype = app.response;
  countEnds(app.response as Counted);
  const server = http.createServer(
    {
      IncomingMessage: Request as unknown as typeof http.IncomingMessage,
      ServerResponse: Response as unknown as typeof http.ServerResponse,
    },
    app,
  );
  return Object.assign(server, { handled: (deadline: number) => handling.none(deadline) });
}

/** The server of an app, which knows when the requests it was given have been answered. */
export interface AppServer extends http.Server {
  /**
   * Resolves once every request received so far has had its response ended, or at `deadline`
   * (ms since the epoch). Unlike its connections, this counts a request whose client has gone:
   * its handler still runs, and may still be writing to the database.
   */
  handled(deadline: number): Promise<void>;
}

const HANDLING = Symbol('handling');
type Counted = http.ServerResponse & { [HANDLING]?: Handling };

/** Responses made and not ended yet. */
class Handling {
  count = 0;
  private waiting: (() => void)[] = [];

  ended(): void {
    if (--this.count === 0) for (const resolve of this.waiting.splice(0)) resolve();
  }

  none(deadline: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      setTimeout(resolve, Math.max(0, deadline - Date.now())).unref();
    });
  }
}

const nodeEnd = http.ServerResponse.prototype.end;

/**
 * Has the app's responses count themselves out when ended: once, on the prototype (one more
 * closure a request would cost every page). Express ends every response through `end`.
 */
function countEnds(proto: Counted): void {
  if (Object.prototype.hasOwnProperty.call(proto, 'end')) return;
  proto.end = function end(this: Counted, ...args: unknown[]) {
    if (!this.writableEnded) this[HANDLING]?.ended();
    return Reflect.apply(nodeEnd, this, args) as Counted;
  } as Counted['end'];
}
