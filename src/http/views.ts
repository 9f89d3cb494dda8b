import fs from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import type { Express, Response } from 'express';

/**
 * The view engine of the app's pages: EJS templates, compiled once each (in production), run
 * without `with`, and included by this engine rather than by EJS.
 *
 * By default EJS runs a template inside `with (locals) { … }`, where each name the template
 * reads is a dynamic lookup V8 cannot optimise (half the time of a 50-row queue page), and an
 * include checks on disk that its file exists. Here each template starts by declaring as
 * variables the identifiers its own code could read (`destructuredLocals`, taken from the
 * template's source: a superset, since object keys count too, so a name it reads is never left
 * out), and what it was not given is `undefined`, as `typeof x !== 'undefined'` expects. An
 * include is resolved by path alone: `/tickets/_badges` from the views folder, `_badges` from
 * the including template's folder.
 */
export function viewEngine(viewsDir: string) {
  const render = templates(viewsDir);
  return (file: string, data: object, done: (err: unknown, html?: string) => void): void => {
    let html: string;
    try {
      const locals = data as Record<string, unknown>;
      html = render(file, locals, { cache: locals.cache === true });
    } catch (err) {
      return done(err);
    }
    done(null, html);
  };
}

/**
 * Scratch space pages are encoded into: Express sends a page of 1,000 characters or more
 * through Buffer.from, which reads the whole text once to measure its UTF-8 length, then again
 * to encode it. For a 45 KB list page that is 72 µs of the main thread; encoding once here and
 * copying the bytes out costs 39.
 */
const SCRATCH = Buffer.allocUnsafe(1 << 20);

/** A page as UTF-8 bytes, encoded in one pass (through SCRATCH when it fits). */
export function utf8Page(html: string): Buffer {
  if (html.length * 3 > SCRATCH.length) return Buffer.from(html, 'utf8');
  const length = SCRATCH.write(html, 0, 'utf8');
  const page = Buffer.allocUnsafe(length);
  SCRATCH.copy(page, 0, 0, length);
  return page;
}

/**
 * Makes `res.render` without a callback send the page as utf8Page's bytes, as HTML unless the
 * route chose another type (what Express's own ending does with the text). Set once, on the
 * app's response prototype.
 */
export function sendPagesAsBytes(app: Express): void {
  type Done = (err: Error, html: string) => void;
  const render = app.response.render as (
    this: Response,
    view: string,
    options?: object | Done,
    done?: Done,
  ) => void;
  app.response.render = function (
    this: Response,
    view: string,
    options?: object | Done,
    done?: Done,
  ) {
    if (typeof options === 'function') return render.call(this, view, options);
    const send: Done = (err, html) => {
      if (err) return this.req.next!(err);
      if (!this.get('Content-Type')) this.type('html');
      this.send(utf8Page(html));
    };
    render.call(this, view, options ?? {}, done ?? send);
  } as Response['render'];
}

/** How a template is run: compiled once (`cache`), and what its `<%= %>` escapes with. */
export interface RenderOptions {
  cache: boolean;
  escape?: (value: unknown) => string;
}

/**
 * Renders the templates of a views folder, as described above: the pages through viewEngine,
 * the emails (whose plain-text parts escape nothing) through renderEmail.
 */
export function templates(viewsDir: string) {
  const compiled = new Map<string, Template>();
  const resolved = new Map<string, string>();

  /** The file an include names, from the views folder (`/x`) or the including file's. */
  function resolve(from: string, name: string): string {
    const key = `${from}\0${name}`;
    let target = resolved.get(key);
    if (target === undefined) {
      const joined = name.startsWith('/')
        ? path.join(viewsDir, name)
        : path.resolve(path.dirname(from), name);
      target = path.extname(joined) ? joined : `${joined}.ejs`;
      resolved.set(key, target);
    }
    return target;
  }

  function load(file: string, cache: boolean): Template {
    let template = cache ? compiled.get(file) : undefined;
    if (!template) {
      template = compile(file, !cache);
      if (cache) compiled.set(file, template);
    }
    return template;
  }

  function render(file: string, data: Record<string, unknown>, opts: RenderOptions): string {
    const include = (name: string, extra?: Record<string, unknown>) => {
      const target = resolve(file, name);
      if (!extra) return render(target, data, opts);
      // The partial gets the page's locals with its own on top, set on the page's locals object
      // for the time of the partial and taken off after: a template reads its locals once, as it
      // starts, so the page's own variables are not touched. Not a copy: the page's locals come
      // from Express merging several objects, which leaves them a dictionary, and a copy of one
      // is made key by key (about 7 µs for a page's 40 locals, twice a queue page). Not an
      // object whose prototype is the page's locals either: V8 then makes that object a
      // prototype, with a map of its own in the old generation, which keeps it (and every row
      // the page shows) alive through young collections until they are promoted.
      const keys = Object.keys(extra);
      const before = keys.map((k) => (Object.hasOwn(data, k) ? { value: data[k] } : null));
      for (const k of keys) data[k] = extra[k];
      try {
        return render(target, data, opts);
      } finally {
        keys.forEach((k, i) => {
          const kept = before[i];
          if (kept) data[k] = kept.value;
          else delete data[k];
        });
      }
    };
    return load(file, opts.cache)(data, opts.escape ?? escapeHtml, include);
  }

  return render;
}

type Template = (
  locals: Record<string, unknown>,
  escape: (value: unknown) => string,
  include: (name: string, extra?: Record<string, unknown>) => string,
) => string;

/**
 * A template as a function. `debug` (templates read again at each render, in development)
 * keeps EJS's line tracking, which names the template line of an error; compiled once, in
 * production, a template runs without it (a statement per line of a list's rows).
 */
function compile(file: string, debug: boolean): Template {
  // Indentation (a seventh of a list page) is not sent. Line breaks stay, so the page reads
  // the same: a line break between two inline elements is the space between them.
  const source = fs.readFileSync(file, 'utf8').replace(/^[ \t]+/gm, '');
  return ejs.compile(source, {
    client: true,
    filename: file,
    _with: false,
    compileDebug: debug,
    destructuredLocals: templateIdentifiers(source),
  }) as unknown as Template;
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

/** A scriptlet's code; `<%#` comments are not code. */
const SCRIPTLET = /<%(?!#)[_=-]?([\s\S]*?)[_-]?%>/g;
/** Quoted text: the words of `t('tickets.fields.title')` are not variables. */
const QUOTED = /'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g;
/** An identifier that is not a property name (`row.title` reads `row` only). */
const IDENTIFIER = /(?<![.\w$])[A-Za-z_$][\w$]*/g;

/**
 * Every identifier in a template's scriptlets that it may need as a variable. Each one is read
 * from the locals as the template starts (a lookup through the page's and the include's
 * locals): words of comments, quoted text and property names would be read for nothing.
 */
export function templateIdentifiers(source: string): string[] {
  const names = new Set<string>();
  for (const [, code] of source.matchAll(SCRIPTLET)) {
    for (const id of code.replace(QUOTED, ' ').match(IDENTIFIER) ?? []) names.add(id);
  }
  return [...names].filter((n) => !RESERVED.has(n) && !(n in globalThis) && declarable(n)).sort();
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
 * the common case of text that needs none, nor a search in a number (ids).
 */
export function escapeHtml(value: unknown): string {
  if (typeof value === 'number') return String(value);
  const s = value === undefined || value === null ? '' : String(value);
  return SPECIAL.test(s) ? s.replace(SPECIALS, (c) => ENTITIES[c]) : s;
}
