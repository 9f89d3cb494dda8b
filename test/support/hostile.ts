import type { Knex } from 'knex';
import type { RouteInfo } from './routes';

/** Tables whose content a refused request may touch without anything having happened. */
const VOLATILE = new Set(['session', 'rate_limits', 'knex_migrations', 'knex_migrations_lock']);

/**
 * A digest of every application table (row count and a hash of its rows), to show that a
 * refused request left no row behind, not even half of one.
 */
export async function fingerprint(db: Knex): Promise<Record<string, string>> {
  const tables = (await db('pg_tables')
    .where({ schemaname: 'public' })
    .orderBy('tablename')
    .pluck('tablename')) as string[];
  const out: Record<string, string> = {};
  for (const table of tables) {
    if (VOLATILE.has(table)) continue;
    const { rows } = await db.raw(
      `select count(*)::int as n, md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as h from ?? x`,
      [table],
    );
    out[table] = `${rows[0].n}:${rows[0].h}`;
  }
  return out;
}

/** The tables whose digest differs between two fingerprints. */
export function changedTables(
  before: Record<string, string>,
  after: Record<string, string>,
): string[] {
  return Object.keys({ ...before, ...after }).filter((t) => before[t] !== after[t]);
}

/** What no answer may contain: a stack frame, or the text of a SQL statement or error. */
export function leaks(text: string): string[] {
  const found: string[] = [];
  if (/\bat [\w.<>]+ \(?[^)\s]*\.(ts|js):\d+/.test(text)) found.push('stack trace');
  if (
    /syntax error at or near|invalid input syntax|invalid byte sequence|DatabaseError/i.test(text)
  )
    found.push('database error');
  // Knex's SQL quotes identifiers; a user's own text comes back escaped (&#34;), never raw.
  if (/\b(from|into|update|join) "\w+"/i.test(text)) found.push('SQL text');
  return found;
}

/** Routes that change state: everything but GET, HEAD and OPTIONS. */
export function stateChanging(routes: RouteInfo[]): RouteInfo[] {
  return routes.filter((r) => !['GET', 'HEAD', 'OPTIONS'].includes(r.method));
}

/** A route's path with its `:params` replaced, by name or else by `fallback`. */
export function concrete(path: string, params: Record<string, string>, fallback = '1'): string {
  return path.replace(/:(\w+)/g, (_, name: string) => params[name] ?? fallback);
}

/**
 * Hostile markup and template syntax, each short enough for every text field (category names
 * hold 80 characters) and unique, so a page showing one shows which field it came from.
 */
export const XSS_PAYLOADS = [
  '<script>alert("xss-1")</script>',
  "<img src=x onerror=alert('xss-2')>",
  '"><svg/onload=alert(3)>xss-3',
  '<a href="javascript:alert(4)">lien xss-4</a>',
  'javascript:alert(5) xss-5',
  '<svg><script>alert(6)</script></svg>xss-6',
  '</textarea></title><b>gras xss-7</b><!--',
  '<div title="x <i>cassé xss-8',
  '<%= process.env.SECRET_KEY %> <%- 9*9 %> {{9*9}} ${9*9} xss-9',
  "'';!--\"<XSS-10>=&{()}",
  '<iframe srcdoc="<script>alert(11)</script>">xss-11',
  '<math><a xlink:href="javascript:alert(12)">xss-12',
] as const;

/** EJS's escaping, to find a payload as an escaped page shows it. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&#34;')
    .replace(/'/g, '&#39;');
}

/**
 * Markup that would run something in a browser: an inline script, an event-handler attribute,
 * a javascript: URL, an iframe. Attribute values are blanked first, so escaped text inside
 * value="…" cannot pass for a tag.
 */
export function activeMarkup(html: string): string[] {
  const found: string[] = [];
  const tagsOnly = html.replace(/"[^"]*"/g, '""');
  if (/<script(?![^>]*\ssrc="")/i.test(tagsOnly)) found.push('inline <script>');
  if (/<[a-z][^>]*\son[a-z]+\s*=/i.test(tagsOnly)) found.push('event handler attribute');
  if (/<(iframe|object|embed|math)\b/i.test(tagsOnly)) found.push('embedding tag');
  if (/\b(href|src|action|formaction|xlink:href)\s*=\s*["']?\s*javascript:/i.test(html))
    found.push('javascript: URL');
  return found;
}
