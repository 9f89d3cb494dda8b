import querystring from 'node:querystring';
import type { NextFunction, Request, Response } from 'express';

/**
 * PostgreSQL cannot store U+0000 in text (the query fails with "invalid byte sequence"), and
 * nobody types it: it is dropped from every string of an input, in place, at the door.
 */
export function dropNulBytes<T>(value: T): T {
  if (typeof value === 'string') return value.replaceAll('\u0000', '') as T;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = dropNulBytes(value[i]);
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = dropNulBytes(record[key]);
  }
  return value;
}

/** Express's "simple" query parser, without NUL characters. */
export function parseQuery(query: string): querystring.ParsedUrlQuery {
  return dropNulBytes(querystring.parse(query));
}

/** After a body parser (urlencoded, multer): the same for the body. */
export function dropNulBytesFromBody(req: Request, _res: Response, next: NextFunction): void {
  dropNulBytes(req.body);
  next();
}
