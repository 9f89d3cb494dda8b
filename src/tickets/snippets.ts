import type { Knex } from 'knex';
import { BoundedMap } from '../bounded-map';

type Db = Knex | Knex.Transaction;

/**
 * Search results: the title with the words a search matched marked, and up to two passages of
 * the description around them, as pieces of text (the view escapes each piece).
 *
 * A word matches when one of its lexemes, as the search's own text configurations make them
 * (guichet_tsv), is one of the query's lexemes, so what is marked is what was found. The
 * lexemes of each distinct word are asked of PostgreSQL once and kept: the vocabulary of a
 * helpdesk is small and repeats, where ts_headline parsed and stemmed every word of every
 * excerpt again for every search (about 40 µs a row, half the database time of a search page).
 */

/** A piece of an excerpt: marked when it is a word the search found. */
export interface Piece {
  text: string;
  mark: boolean;
}

/** Words in a passage, as ts_headline's MaxWords. */
const MAX_WORDS = 30;
const MAX_PASSAGES = 2;
const DELIMITER = ' … ';

/** Lexemes of a word (lower case), as the search configurations make them. */
const lexemes = new BoundedMap<string, readonly string[]>(50_000);
/**
 * Words asked of PostgreSQL for one page at most (about 4 ms of its time): pages of long pasted
 * logs full of words never seen cannot make each search cost seconds. A word left out is
 * not marked this time; it is learnt with the next pages.
 */
const MAX_LEARNT_PER_PAGE = 2_000;
/** Longer runs (a pasted hash, a 10,000-character line) are not looked up: never marked. */
const LONGEST_WORD = 200;

/** The words of a text: where each starts and ends, and its lower-case form (what is looked up). */
interface Words {
  starts: number[];
  ends: number[];
  keys: string[];
}

const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;

/** A letter or a digit: ASCII and the Latin letters (é, ç, œ…) at once, the rest by Unicode. */
function isWordChar(c: number, text: string, i: number): boolean {
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
  if (c >= 0xc0 && c <= 0x24f) return c !== 0xd7 && c !== 0xf7;
  return LETTER_OR_DIGIT.test(text[i]);
}

/** What `\s` matches, without a regular expression. */
function isSpace(c: number): boolean {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return (
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Where words are cut: spaces and apostrophes (PostgreSQL's parser cuts there too). */
const isCut = (c: number): boolean => c === 39 || c === 0x2019 || isSpace(c);

const WORD = 1;
const CUT = 2;
/**
 * What each character below U+0250 is (WORD, CUT or neither), read from a table: ASCII and the
 * Latin letters are nearly all a helpdesk's text, and one read costs less than the tests.
 */
const CLASSES = Uint8Array.from({ length: 0x250 }, (_, c) => {
  const char = String.fromCharCode(c);
  return (isWordChar(c, char, 0) ? WORD : 0) | (isCut(c) ? CUT : 0);
});

const classOf = (c: number, text: string, i: number): number =>
  c < 0x250 ? CLASSES[c] : (isWordChar(c, text, i) ? WORD : 0) | (isCut(c) ? CUT : 0);

/**
 * Words: from a letter or digit to the last letter or digit before a cut, so "Wi-Fi",
 * "jean.dupont@acme.fr" and "0x80070005" are one word each, and "(imprimante)," is the word
 * imprimante.
 */
function wordsOf(text: string): Words {
  const words: Words = { starts: [], ends: [], keys: [] };
  // Lower case once for the whole text, unless that changed its length (İ → i̇).
  const lower = text.toLowerCase();
  const keyOf =
    lower.length === text.length
      ? (start: number, end: number) => lower.slice(start, end)
      : (start: number, end: number) => text.slice(start, end).toLowerCase();
  const n = text.length;
  let i = 0;
  while (i < n) {
    while (i < n && !(classOf(text.charCodeAt(i), text, i) & WORD)) i++;
    if (i >= n) break;
    const start = i;
    let end = i;
    while (i < n) {
      const kind = classOf(text.charCodeAt(i), text, i);
      if (kind & CUT) break;
      i++;
      if (kind & WORD) end = i;
    }
    if (end - start > LONGEST_WORD) continue;
    words.starts.push(start);
    words.ends.push(end);
    words.keys.push(keyOf(start, end));
  }
  return words;
}

/** The lexemes of a tsquery's operands ('imprim' | 'imprimante' → imprim, imprimante). */
export function queryLexemes(tsquery: string): Set<string> {
  return new Set([...tsquery.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1].replace(/''/g, "'")));
}

/** Asks PostgreSQL for the lexemes of these words, in one query. */
async function learn(db: Db, words: Set<string>): Promise<void> {
  const result = await db.raw(
    `select w, tsvector_to_array(guichet_tsv(w, 'A')) as lexemes from unnest(?::text[]) w`,
    [[...words].slice(0, MAX_LEARNT_PER_PAGE)],
  );
  for (const row of result.rows as { w: string; lexemes: string[] }[]) {
    lexemes.set(row.w, row.lexemes);
  }
}

/**
 * The indexes of the words the search found; the words whose lexemes are not known yet match
 * nothing, and go to `unknown` when it is given.
 */
function found(words: Words, wanted: Set<string>, unknown?: Set<string>): number[] {
  const marked: number[] = [];
  const { keys } = words;
  for (let i = 0; i < keys.length; i++) {
    const known = lexemes.get(keys[i]);
    if (known === undefined) unknown?.add(keys[i]);
    else if (known.some(isIn, wanted)) marked.push(i);
  }
  return marked;
}

/** `some`'s test with the wanted lexemes as `this`: no closure made for each word. */
function isIn(this: Set<string>, lexeme: string): boolean {
  return this.has(lexeme);
}

/** The passages of `text` around the words found, those words marked. */
function excerpt(text: string, words: Words, matches: number[]): Piece[] {
  const count = words.keys.length;
  const marked = new Set(matches);
  if (!matches.length) return passage(text, words, 0, Math.min(count, MAX_WORDS), marked);
  const passages: [number, number][] = [];
  for (const m of matches) {
    const last = passages.at(-1);
    if (last && m < last[1]) continue;
    if (passages.length === MAX_PASSAGES) break;
    // Centred on the match, within the text and after the previous passage.
    const from = Math.max(last?.[1] ?? 0, Math.min(m - (MAX_WORDS >> 1), count - MAX_WORDS), 0);
    passages.push([from, Math.min(count, from + MAX_WORDS)]);
  }
  return passages.flatMap(([from, to], i) => [
    ...(i ? [{ text: DELIMITER, mark: false }] : []),
    ...passage(text, words, from, to, marked),
  ]);
}

/** Words `from` to `to` of the text, with what touches them up to the spaces around. */
function passage(
  text: string,
  words: Words,
  from: number,
  to: number,
  marked: Set<number>,
): Piece[] {
  if (from >= to) return [];
  // From the space before the first word to the space after the last: "(Wi-Fi)," whole.
  let at = words.starts[from];
  while (at > 0 && !isSpace(text.charCodeAt(at - 1))) at--;
  let end = words.ends[to - 1];
  while (end < text.length && !isSpace(text.charCodeAt(end))) end++;
  return pieces(text, words, from, to, marked, at, end);
}

/** The whole text, the words found marked. */
const whole = (text: string, words: Words, matches: number[]): Piece[] =>
  pieces(text, words, 0, words.keys.length, new Set(matches), 0, text.length);

/** The text from `at` to `end`, cut around the marked words among words `from` to `to`. */
function pieces(
  text: string,
  words: Words,
  from: number,
  to: number,
  marked: Set<number>,
  at: number,
  end: number,
): Piece[] {
  const out: Piece[] = [];
  for (let i = from; i < to; i++) {
    if (!marked.has(i)) continue;
    if (words.starts[i] > at) out.push({ text: text.slice(at, words.starts[i]), mark: false });
    out.push({ text: text.slice(words.starts[i], words.ends[i]), mark: true });
    at = words.ends[i];
  }
  if (end > at) out.push({ text: text.slice(at, end), mark: false });
  return out;
}

/** A search result's title with the words found marked, and the excerpt of its description. */
export interface Excerpt {
  titlePieces: Piece[];
  snippet: Piece[];
}

/**
 * Each ticket's title with the words found marked (`titlePieces`), and an excerpt of its
 * description (`snippet`): the passages around the words found, or its first words when they
 * are only in the title, a reply or a note. One excerpt per ticket, in order (the rows
 * themselves are not copied: spreading 50 rows of 10 columns into new objects cost more than
 * making their excerpts).
 */
export async function excerpts(
  db: Db,
  tickets: readonly { title: string; description?: string }[],
  tsquery: string,
): Promise<Excerpt[]> {
  const titles = tickets.map((r) => wordsOf(r.title));
  const descriptions = tickets.map((r) => wordsOf(r.description ?? ''));
  const wanted = queryLexemes(tsquery);
  // The words are looked up once; only a page with words never seen asks PostgreSQL, and then
  // looks its words up again.
  const unknown = new Set<string>();
  let inTitles = titles.map((w) => found(w, wanted, unknown));
  let inDescriptions = descriptions.map((w) => found(w, wanted, unknown));
  if (unknown.size) {
    await learn(db, unknown);
    inTitles = titles.map((w) => found(w, wanted));
    inDescriptions = descriptions.map((w) => found(w, wanted));
  }
  return tickets.map((r, i) => ({
    titlePieces: whole(r.title, titles[i], inTitles[i]),
    snippet: excerpt(r.description ?? '', descriptions[i], inDescriptions[i]),
  }));
}
