import fs from 'node:fs';
import path from 'node:path';

/**
 * EJS options for the app's pages.
 *
 * By default EJS runs every template inside `with (locals) { … }`, where each name a template
 * reads is a dynamic lookup that V8 cannot optimise: half the time of a 50-row queue page. Here
 * templates run without `with`, and start by declaring as variables every identifier their
 * code could read (`destructuredLocals`), taken from the templates themselves at start-up. The
 * list is a superset (property names and words inside strings are in it too, and cost a
 * lookup each), so a template cannot read a name that was left out; what it was not given is
 * `undefined`, as `typeof x !== 'undefined'` expects.
 */
export function viewOptions(viewsDir: string) {
  return {
    _with: false,
    destructuredLocals: templateIdentifiers(viewsDir),
    escape: escapeHtml,
    // Indentation and blank lines of the templates (a seventh of a list page) are not sent.
    // Line breaks stay, so inline elements keep the space between them.
    rmWhitespace: true,
  };
}

/** Names EJS itself gives a compiled template, and names that cannot be declared with `var`. */
const RESERVED = new Set([
  'include',
  'locals',
  '__locals',
  '__append',
  '__output',
  '__line',
  '__lines',
  '__filename',
  'escapeFn',
  'rethrow',
  'arguments',
  'eval',
]);

const SCRIPTLET = /<%[_=-]?([\s\S]*?)[_-]?%>/g;
const IDENTIFIER = /[A-Za-z_$][\w$]*/g;

/** Every identifier in the views' scriptlets that a template may need as a variable. */
export function templateIdentifiers(viewsDir: string): string[] {
  const names = new Set<string>();
  for (const file of templates(viewsDir)) {
    const source = fs.readFileSync(file, 'utf8');
    for (const [, code] of source.matchAll(SCRIPTLET)) {
      for (const id of code.match(IDENTIFIER) ?? []) names.add(id);
    }
  }
  return [...names].filter((n) => !RESERVED.has(n) && !(n in globalThis) && declarable(n)).sort();
}

function templates(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return templates(full);
    return entry.name.endsWith('.ejs') ? [full] : [];
  });
}

/** Whether `var name` is valid JavaScript (keywords such as `new` or `class` are not). */
function declarable(name: string): boolean {
  try {
    new Function(`var ${name};`);
    return true;
  } catch {
    return false;
  }
}

const SPECIAL = /[&<>'"]/;
const SPECIALS = /[&<>'"]/g;
const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&#34;',
  "'": '&#39;',
};

/**
 * EJS's escaping (the same five characters, the same entities), without a replace call for
 * the common case of text that needs none.
 */
export function escapeHtml(value: unknown): string {
  const s = value === undefined || value === null ? '' : String(value);
  return SPECIAL.test(s) ? s.replace(SPECIALS, (c) => ENTITIES[c]) : s;
}
