import fs from 'node:fs';
import path from 'node:path';
import ejs from 'ejs';
import type { Request, Response } from 'express';
import { paths } from '../../src/app';
import { viewHelpers } from '../../src/http/locals';
import { escapeHtml, templateIdentifiers, viewOptions } from '../../src/http/views';

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

  it('declares the names templates read, and never a global or a name EJS defines', () => {
    const names = templateIdentifiers(paths.views);
    expect(names).toEqual(expect.arrayContaining(['currentUser', 'rows', 'csrfToken', 't']));
    for (const reserved of ['include', 'locals', 'Math', 'JSON', 'encodeURIComponent', 'new']) {
      expect(names).not.toContain(reserved);
    }
  });

  it('compiles every page template with those options', () => {
    const options = viewOptions(paths.views);
    const files = (fs.readdirSync(paths.views, { recursive: true }) as string[]).filter(
      (f) => f.endsWith('.ejs') && !f.startsWith('emails'),
    );
    expect(files.length).toBeGreaterThan(20);
    for (const file of files) {
      const filename = path.join(paths.views, file);
      expect(() =>
        ejs.compile(fs.readFileSync(filename, 'utf8'), { ...options, filename }),
      ).not.toThrow();
    }
  });

  it('renders a variable that was not given as undefined, and one that was as its value', () => {
    const render = ejs.compile(
      '<%= typeof title !== "undefined" ? title : "none" %>|<%= name %>|<%- body %>',
      viewOptions(paths.views),
    );
    expect(render({ name: '<b>', body: '<i>' })).toBe('none|&lt;b&gt;|<i>');
    expect(render({ title: 'T', name: 'n', body: '' })).toBe('T|n|');
  });
});

describe('date helpers', () => {
  const now = new Date('2026-11-18T10:00:00Z');
  function helpers(locale: 'fr' | 'en') {
    const res = { locals: {} as Record<string, (d: Date | string | null) => string> };
    viewHelpers({ timeZone: 'Europe/Paris' }, () => now)(
      { locale, originalUrl: '/' } as Request,
      res as unknown as Response,
      () => undefined,
    );
    return res.locals;
  }

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
});
