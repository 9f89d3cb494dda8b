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
  for (const key in params) {
    const value = params[key];
    if (value === undefined || value === null || value === '') continue;
    if (Array.isArray(value) && !value.length) continue;
    const text = Array.isArray(value) ? value.join(',') : String(value);
    const pair =
      PLAIN.test(key) && PLAIN.test(text)
        ? `${key}=${text}`
        : new URLSearchParams([[key, text]]).toString();
    query += query ? `&${pair}` : `?${pair}`;
  }
  return path + query;
}
