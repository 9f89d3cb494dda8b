import type { Response } from 'express';
import type { TFunction } from '../i18n';
import type { Locale } from '../config';
import type { ExportRow } from './queue.repo';

export type Separator = ';' | ',' | '\t';

/**
 * French Excel expects `;` (the comma is the decimal mark), English Excel `,`; `?sep=`
 * (`;`, `,` or `tab`) overrides.
 */
export function csvSeparator(param: unknown, locale: Locale): Separator {
  if (param === ';' || param === 'semicolon') return ';';
  if (param === ',' || param === 'comma') return ',';
  if (param === 'tab' || param === '\t') return '\t';
  return locale === 'fr' ? ';' : ',';
}

/**
 * One cell: quoted when it holds the separator, a quote or a line break; a leading = + - @
 * is defused so a spreadsheet never runs a formula someone typed in a ticket title.
 */
export function csvCell(value: string | number | null | undefined, sep: Separator): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return text.includes(sep) || /["\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function ticketCsvHeader(t: TFunction): string[] {
  return [
    t('csv.id'),
    t('tickets.fields.title'),
    t('tickets.fields.status'),
    t('tickets.fields.priority'),
    t('tickets.fields.category'),
    t('csv.requester'),
    t('csv.requester_email'),
    t('tickets.fields.assignee'),
    t('csv.created_at'),
    t('csv.last_activity_at'),
    t('csv.first_response_at'),
    t('csv.resolved_at'),
    t('csv.closed_at'),
  ];
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : '');

export function ticketCsvRow(r: ExportRow, t: TFunction): (string | number | null)[] {
  return [
    r.id,
    r.title,
    t(`tickets.status.${r.status}`),
    t(`tickets.priority.${r.priority}`),
    r.category,
    r.requester,
    r.requesterEmail,
    r.assignee,
    iso(r.createdAt),
    iso(r.lastActivityAt),
    iso(r.firstResponseAt),
    iso(r.resolvedAt),
    iso(r.closedAt),
  ];
}

/**
 * Streams a CSV: UTF-8 with a byte-order mark (so Excel reads accents), CRLF line ends, and
 * the response's backpressure respected so memory stays flat however many rows there are.
 */
export async function writeCsv(
  res: Response,
  sep: Separator,
  header: string[],
  rows: () => AsyncGenerator<(string | number | null)[][]>,
): Promise<void> {
  const line = (cells: (string | number | null)[]) =>
    `${cells.map((c) => csvCell(c, sep)).join(sep)}\r\n`;
  res.write(`\uFEFF${line(header)}`);
  for await (const batch of rows()) {
    if (res.destroyed) return; // the browser went away: stop reading the database
    if (!res.write(batch.map(line).join(''))) {
      await new Promise<void>((resolve) => {
        res.once('drain', resolve);
        res.once('close', resolve);
      });
    }
  }
  res.end();
}
