import type { Knex } from 'knex';
import { BoundedMap } from '../bounded-map';

type Db = Knex | Knex.Transaction;

/**
 * Search excerpts: up to two passages of the title and description around the words a search
 * matched, those words between \u0001 and \u0002 (the view escapes the text and marks them).
 *
 * A word matches when one of its lexemes, as the search's own text configurations make them
 * (guichet_tsv), is one of the query's lexemes, so what is marked is what was found. The
 * lexemes of each distinct word are asked of PostgreSQL once and kept: the vocabulary of a
 * helpdesk is small and repeats, where ts_headline parsed and stemmed every word of every
 * excerpt again for every search (about 40 µs a row, half the database time of a search page).
 */

/** Words in a passage, as ts_headline's MaxWords. */
const MAX_WORDS = 30;
/** Words shown when nothing in the text matched (the match was in a reply or a note). */
const MIN_WORDS = 12;
const MAX_PASSAGES = 2;
const DELIMITER = ' … ';
/** Around a marked word (the view's highlight() splits on them). */
const START = '\u0001';
const STOP = '\u0002';

/** Lexemes of a word (lower case), as the search configurations make them. */
const lexemes = new BoundedMap<string, readonly string[]>(50_000);
/** Longer runs (a pasted hash, a 10,000-character line) are not looked up: never marked. */
const LONGEST_WORD = 200;

interface Word {
  /** Where the word starts and ends in the text, punctuation around it left out. */
  start: number;
  end: number;
  /** The word in lower case: what is looked up. */
  key: string;
}

/**
 * Words: from a letter or digit to a letter or digit, with no space or apostrophe between
 * (PostgreSQL's parser splits there too), so "Wi-Fi", "jean.dupont@acme.fr" and "0x80070005"
 * are one word each, and "(imprimante)," is the word imprimante.
 */
const WORD = /[\p{L}\p{N}](?:[^\s'’]*[\p{L}\p{N}])?/gu;

function wordsOf(text: string): Word[] {
  const words: Word[] = [];
  for (const m of text.matchAll(WORD)) {
    if (m[0].length > LONGEST_WORD) continue;
    words.push({ start: m.index, end: m.index + m[0].length, key: m[0].toLowerCase() });
  }
  return words;
}

/** The lexemes of a tsquery's operands ('imprim' | 'imprimante' → imprim, imprimante). */
export function queryLexemes(tsquery: string): Set<string> {
  return new Set([...tsquery.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1].replace(/''/g, "'")));
}

/** Asks PostgreSQL for the lexemes of the words not seen yet, in one query. */
async function learn(db: Db, texts: Word[][]): Promise<void> {
  const unknown = new Set<string>();
  for (const words of texts) for (const w of words) if (!lexemes.has(w.key)) unknown.add(w.key);
  if (!unknown.size) return;
  const missing = [...unknown];
  const result = await db.raw(
    `select w, tsvector_to_array(guichet_tsv(w, 'A')) as lexemes from unnest(?::text[]) w`,
    [missing],
  );
  for (const row of result.rows as { w: string; lexemes: string[] }[]) {
    lexemes.set(row.w, row.lexemes);
  }
}

/** The passages of `text` around its words that match, with the matches marked. */
function excerpt(text: string, words: Word[], wanted: Set<string>): string {
  const matches: number[] = [];
  words.forEach((w, i) => {
    if (lexemes.get(w.key)?.some((l) => wanted.has(l))) matches.push(i);
  });
  const marked = new Set(matches);
  if (!matches.length) return passage(text, words, 0, Math.min(words.length, MIN_WORDS), marked);
  const passages: [number, number][] = [];
  for (const m of matches) {
    const last = passages.at(-1);
    if (last && m < last[1]) continue;
    if (passages.length === MAX_PASSAGES) break;
    // Centred on the match, within the text and after the previous passage.
    const start = Math.max(
      last?.[1] ?? 0,
      Math.min(m - (MAX_WORDS >> 1), words.length - MAX_WORDS),
    );
    passages.push([Math.max(start, 0), Math.min(words.length, Math.max(start, 0) + MAX_WORDS)]);
  }
  return passages.map(([from, to]) => passage(text, words, from, to, marked)).join(DELIMITER);
}

function passage(
  text: string,
  words: Word[],
  from: number,
  to: number,
  marked: Set<number>,
): string {
  if (from >= to) return '';
  // From the space before the first word to the space after the last: "(Wi-Fi)," whole.
  let at = words[from].start;
  while (at > 0 && !/\s/.test(text[at - 1])) at--;
  let end = words[to - 1].end;
  while (end < text.length && !/\s/.test(text[end])) end++;
  let out = '';
  for (let i = from; i < to; i++) {
    if (!marked.has(i)) continue;
    const w = words[i];
    out += `${text.slice(at, w.start)}${START}${text.slice(w.start, w.end)}${STOP}`;
    at = w.end;
  }
  return out + text.slice(at, end);
}

/** Sets each row's `snippet` from its title and description, for the search's tsquery. */
export async function addSnippets<R extends { title: string; description?: string }>(
  db: Db,
  rows: R[],
  tsquery: string,
): Promise<(R & { snippet: string })[]> {
  // The markers are the view's: a text holding them must not mark anything itself.
  const texts = rows.map((r) =>
    `${r.title} — ${r.description ?? ''}`.replaceAll(START, ' ').replaceAll(STOP, ' '),
  );
  const words = texts.map(wordsOf);
  await learn(db, words);
  const wanted = queryLexemes(tsquery);
  return rows.map((r, i) => ({ ...r, snippet: excerpt(texts[i], words[i], wanted) }));
}
