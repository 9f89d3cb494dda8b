/** A value that needs no encoding in a query string (URLSearchParams leaves these as they are). */
const PLAIN = /^[\w.*-]*$/;

/**
 * A list page's URL with its filters as the query string, in the order of `params`. Empty
 * values (undefined, null, '' and empty lists) are left out; lists are joined with commas.
 * Encoded as URLSearchParams encodes a form, which is asked only for the values that need it:
 * a queue page writes ten of these URLs, almost all of ids, dates and single words.
 */
export function listUrl(path: string, params: Record<string, unknown>): string {
  let query = '';
  for (const key in params) query = withPair(query, pairOf(key, params[key]));
  return path + query;
}

/**
 * The URLs of one list page with some of its filters replaced: `listUrls(path, params)(over)`
 * is `listUrl(path, { ...params, ...over })`, the unchanged filters encoded once for all of
 * them (a queue page writes its tabs, sorts, export and next page from the same filters).
 */
export function listUrls(
  path: string,
  params: Record<string, unknown>,
): (over: Record<string, unknown>) => string {
  const keys = Object.keys(params);
  const pairs = keys.map((key) => pairOf(key, params[key]));
  return (over) => {
    let query = '';
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      query = withPair(query, Object.hasOwn(over, key) ? pairOf(key, over[key]) : pairs[i]);
    }
    for (const key in over)
      if (!Object.hasOwn(params, key)) query = withPair(query, pairOf(key, over[key]));
    return path + query;
  };
}

/** `key=value` as a form encodes it, or '' for an empty value. */
function pairOf(key: string, value: unknown): string {
  if (value === undefined || value === null || value === '') return '';
  if (Array.isArray(value) && !value.length) return '';
  const text = Array.isArray(value) ? value.join(',') : String(value);
  return PLAIN.test(key) && PLAIN.test(text)
    ? `${key}=${text}`
    : new URLSearchParams([[key, text]]).toString();
}

const withPair = (query: string, pair: string): string =>
  !pair ? query : query ? `${query}&${pair}` : `?${pair}`;
