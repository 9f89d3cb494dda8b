import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ejs from 'ejs';
import type { Request, Response } from 'express';
import { paths } from '../../src/app';
import { viewHelpers } from '../../src/http/locals';
import {
  escapeHtml,
  templateIdentifiers,
  templates,
  utf8Page,
  viewEngine,
} from '../../src/http/views';

const HOSTILE = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "' onmouseover='alert(1)",
  '&amp; already escaped',
  '<%= secret %>',
  'Ünïcödé — « guillemets » 🙂',
  '',
  42,
  0,
  null,
  undefined,
  false,
];

describe('views without `with`', () => {
  it('escapes exactly as EJS does', () => {
    for (const value of HOSTILE) {
      expect(escapeHtml(value)).toBe(ejs.escapeXML(value as string));
    }
  });

  it('declares the names a template reads, and never a global or a name EJS defines', () => {
    const names = templateIdentifiers(
      fs.readFileSync(path.join(paths.views, '_partials/page-start.ejs'), 'utf8'),
    );
    expect(names).toEqual(expect.arrayContaining(['currentUser', 'currentPath', 'csrfToken', 't']));
    for (const reserved of ['include', 'locals', 'Math', 'JSON', 'encodeURIComponent', 'if']) {
      expect(names).not.toContain(reserved);
    }
  });

  it('does not declare the words of comments, quoted text or property names', () => {
    const names = templateIdentifiers(
      `<%# Shows the row's owner %><%= t('tickets.fields.title') %> <%= row.title %>
       <% if (title) { %><%- "a \\"quoted\\" word" + label %><% } %>`,
    );
    expect(names).toEqual(['label', 'row', 't', 'title']);
  });

  const engine = viewEngine(paths.views);
  const render = (file: string, data: Record<string, unknown>) =>
    new Promise<string>((resolve, reject) =>
      engine(path.join(paths.views, file), data, (err, html) =>
        err ? reject(err as Error) : resolve(html!),
      ),
    );

  it('renders a page as EJS does, includes and all, apart from the indentation', async () => {
    const t = (key: string) => `«${key}»`;
    const locals = {
      t,
      locale: 'fr',
      title: 'Titre <b>',
      currentUser: { id: 1, name: 'Zoé <script>', role: 'admin' },
      currentPath: '/tickets?q="x"',
      csrfToken: 'tok',
      flash: [{ type: 'error', key: 'k' }],
    };
    const pages: string[] = [];
    for (const name of ['_partials/page-start.ejs', '_partials/page-end.ejs']) {
      const ours = await render(name, { ...locals, cache: true });
      const theirs = await ejs.renderFile(path.join(paths.views, name), locals, {
        root: paths.views,
      });
      const squeeze = (html: string) => html.replace(/^[ \t]+/gm, '');
      expect(ours).toBe(squeeze(theirs));
      expect(ours).not.toContain('<script>');
      pages.push(ours);
    }
    expect(pages[0]).toContain('Zoé &lt;script&gt;');
    expect(pages[0]).toContain(
      '<input type="hidden" name="returnTo" value="/tickets?q=&#34;x&#34;">',
    );
  });

  it('gives a partial the page locals and its own, and leaves the page locals as they were', async () => {
    const page = await render('tickets/_badges.ejs', {
      statusBadge: (s: string) => `status ${s}`,
      priorityBadge: (p: string) => `priority ${p}`,
      status: 'new',
      priority: null,
      cache: true,
    });
    expect(page).toContain('status new');
    expect(page).not.toContain('priority');
  });

  it('compiles every page template', async () => {
    const files = (fs.readdirSync(paths.views, { recursive: true }) as string[]).filter(
      (f) => f.endsWith('.ejs') && !f.startsWith('emails'),
    );
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      // Rendering with no locals fails on the first name used as an object, never on syntax.
      await render(file, {}).catch((err: Error) => expect(err).not.toBeInstanceOf(SyntaxError));
    }
  });

  it('renders the same page whether its templates are compiled once or read at each render', async () => {
    const locals = {
      t: (key: string) => `«${key}»`,
      locale: 'en',
      title: 'A <title>',
      currentUser: { id: 1, name: 'Zoé', role: 'tech' },
      currentPath: '/tickets',
      csrfToken: 'tok',
      flash: [],
    };
    const once = await render('_partials/page-start.ejs', { ...locals, cache: true });
    const each = await render('_partials/page-start.ejs', { ...locals, cache: false });
    expect(once).toBe(each);
    expect(once).toContain('A &lt;title&gt;');
  });

  it('names the template line of an error in development, and fails the render in production', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'views-'));
    fs.writeFileSync(path.join(dir, 'page.ejs'), 'line one\n<%= user.name %>\n');
    const engineHere = viewEngine(dir);
    const attempt = (cache: boolean) =>
      new Promise<string>((resolve, reject) =>
        engineHere(path.join(dir, 'page.ejs'), { cache }, (err, out) =>
          err ? reject(err as Error) : resolve(out!),
        ),
      );
    await expect(attempt(false)).rejects.toThrow(/page\.ejs:2/);
    await expect(attempt(true)).rejects.toThrow(TypeError);
    fs.rmSync(dir, { recursive: true });
  });

  it('leaves the page locals as they were when a partial fails', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'views-'));
    fs.writeFileSync(
      path.join(dir, 'page.ejs'),
      '<%- include("part", { name: "inner", row: 1 }) %>',
    );
    fs.writeFileSync(path.join(dir, 'part.ejs'), '<%= name %><%= row.title.length %>');
    const page = { name: 'outer' };
    expect(() => templates(dir)(path.join(dir, 'page.ejs'), page, { cache: true })).toThrow(
      TypeError,
    );
    expect(page).toEqual({ name: 'outer' });
    fs.rmSync(dir, { recursive: true });
  });

  it('reads a name that was not given as undefined', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'views-'));
    fs.writeFileSync(
      path.join(dir, 'page.ejs'),
      '<%= typeof title !== "undefined" ? title : "none" %>|<%= name %>|<%- include("part", { name: "inner" }) %>|<%= name %>',
    );
    fs.writeFileSync(path.join(dir, 'part.ejs'), '<%= name %>-<%= outer %>');
    const engineHere = viewEngine(dir);
    const html = await new Promise<string>((resolve, reject) =>
      engineHere(path.join(dir, 'page.ejs'), { name: '<b>', outer: 'o' }, (err, out) =>
        err ? reject(err as Error) : resolve(out!),
      ),
    );
    expect(html).toBe('none|&lt;b&gt;|inner-o|&lt;b&gt;');
    fs.rmSync(dir, { recursive: true });
  });
});

/** The view helpers a page in this language gets, in Paris, at `now`. */
function viewHelpersFor<Helper>(locale: 'fr' | 'en', now = new Date()) {
  const res = { locals: {} as Record<string, Helper> };
  viewHelpers({ timeZone: 'Europe/Paris' }, () => now)(
    { locale, originalUrl: '/' } as Request,
    res as unknown as Response,
    () => undefined,
  );
  return res.locals;
}

describe('date helpers', () => {
  const now = new Date('2026-11-18T10:00:00Z');
  const helpers = (locale: 'fr' | 'en') =>
    viewHelpersFor<(d: Date | string | null) => string>(locale, now);

  it('formats as Intl does, the second time from what it remembered', () => {
    const fr = helpers('fr');
    const exact = new Intl.DateTimeFormat('fr-FR', {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: 'Europe/Paris',
    });
    const relative = new Intl.RelativeTimeFormat('fr-FR', { numeric: 'auto' });
    const cases: [string, string][] = [
      ['2026-11-18T09:59:30Z', relative.format(-30, 'second')],
      ['2026-11-18T09:15:00Z', relative.format(-45, 'minute')],
      ['2026-11-17T10:00:00Z', relative.format(-1, 'day')],
      ['2026-10-01T10:00:00Z', relative.format(-2, 'month')],
      ['2026-11-18T12:00:00Z', relative.format(2, 'hour')],
    ];
    for (const [iso, expected] of cases) {
      for (const value of [iso, new Date(iso)]) {
        expect(fr.formatRelative(value)).toBe(expected);
        expect(fr.formatRelative(value)).toBe(expected);
        expect(fr.formatDateTime(value)).toBe(exact.format(new Date(iso)));
        expect(fr.isoDate(value)).toBe(new Date(iso).toISOString());
      }
    }
    // Seconds inside a minute share the minute's text; another minute has its own.
    expect(fr.formatDateTime('2026-11-18T09:59:01Z')).toBe(
      fr.formatDateTime('2026-11-18T09:59:59Z'),
    );
    expect(fr.formatDateTime('2026-11-18T09:58:59Z')).not.toBe(
      fr.formatDateTime('2026-11-18T09:59:00Z'),
    );
  });

  it('keeps each language apart', () => {
    expect(helpers('fr').formatRelative('2026-11-17T10:00:00Z')).toBe('hier');
    expect(helpers('en').formatRelative('2026-11-17T10:00:00Z')).toBe('yesterday');
    expect(helpers('en').formatDateTime('2026-11-18T09:00:00Z')).toBe('18 Nov 2026, 10:00');
  });

  it('writes a moment as one <time> element: relative, exact as a tooltip, or shown as well', () => {
    const en = helpers('en') as unknown as Record<string, (d: unknown, exact?: boolean) => string>;
    const at = '2026-11-17T09:59:00.250Z';
    const opening = '<time datetime="2026-11-17T09:59:00.250Z" title="17 Nov 2026, 10:59">';
    expect(en.timeTag(at)).toBe(`${opening}yesterday</time>`);
    expect(en.timeTag(new Date(at))).toBe(`${opening}yesterday</time>`);
    expect(en.timeTag(at, true)).toBe(
      `${opening}yesterday<span class="time-exact"> · 17 Nov 2026, 10:59</span></time>`,
    );
    expect(en.timeTag(null)).toBe('');
    // The markup the templates wrote before, helper by helper.
    expect(en.timeTag(at)).toBe(
      `<time datetime="${en.isoDate(at)}" title="${en.formatDateTime(at)}">${en.formatRelative(at)}</time>`,
    );
    expect(helpers('fr').timeTag(at)).toContain('>hier</time>');
  });
});

describe('pages sent as UTF-8 bytes', () => {
  test.each([
    ['empty', ''],
    ['ASCII', '<p>Printer jammed</p>'],
    ['French and typography', '<p>L’imprimante du 3e étage — « bloquée » · 10 €</p>'],
    ['emoji and right-to-left', '<p>🙂 مرحبا 𝔘</p>'],
    ['a page larger than the scratch space', `<p>${'é’🙂'.repeat(200_000)}</p>`],
  ])('when the page is %s, then its bytes are its UTF-8 encoding', (_name, html) => {
    expect(utf8Page(html).equals(Buffer.from(html, 'utf8'))).toBe(true);
  });

  test('when two pages are encoded one after the other, then the first keeps its bytes', () => {
    const first = utf8Page('<p>première</p>');
    utf8Page('<p>second, longer than the first page</p>');
    expect(first.toString('utf8')).toBe('<p>première</p>');
  });
});

describe('badges', () => {
  const helpers = (locale: 'fr' | 'en') =>
    viewHelpersFor<(value: string, inTable?: boolean) => string>(locale);

  it("shows a status and a priority in the viewer's language, the priority's prefix outside tables", () => {
    const fr = helpers('fr');
    expect(fr.statusBadge('in_progress')).toBe(
      '<span class="badge badge--in_progress">En cours</span>',
    );
    expect(fr.priorityBadge('high')).toBe(
      '<span class="badge badge--high"><span class="visually-hidden">Priorité : </span>Haute</span>',
    );
    expect(fr.priorityBadge('high', true)).toBe('<span class="badge badge--high">Haute</span>');
    expect(helpers('en').statusBadge('in_progress')).toBe(
      '<span class="badge badge--in_progress">In progress</span>',
    );
    // Made once per language: the second page gets the same text.
    expect(helpers('fr').statusBadge('in_progress')).toBe(fr.statusBadge('in_progress'));
  });

  it('escapes a value that is not one of the known ones', () => {
    expect(helpers('en').statusBadge('<x>')).toBe(
      '<span class="badge badge--&lt;x&gt;">tickets.status.&lt;x&gt;</span>',
    );
  });
});
