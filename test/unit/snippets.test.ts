import { createTestDatabase, type TestDatabase } from '../support/test-db';
import { excerpts, queryLexemes, type Piece } from '../../src/tickets/snippets';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());

/** The search's tsquery, as the queue makes it. */
async function tsquery(q: string): Promise<string> {
  return (await database.db.raw('select guichet_tsq(?)::text as q', [q])).rows[0].q as string;
}

/** The title, then the excerpt, the marked words in brackets. */
async function snippetOf(q: string, title: string, description: string): Promise<string> {
  const [row] = await excerpts(database.db, [{ title, description }], await tsquery(q));
  const text = (pieces: Piece[]) => pieces.map((p) => (p.mark ? `[${p.text}]` : p.text)).join('');
  return `${text(row.titlePieces)} | ${text(row.snippet)}`;
}

describe('search excerpts', () => {
  test('when a word matches through French stemming or without accents, then the word as written is marked, in the title or the excerpt', async () => {
    expect(await snippetOf('imprimante', 'Les imprimantes du 2e', 'Rien ne sort.')).toBe(
      'Les [imprimantes] du 2e | Rien ne sort.',
    );
    expect(await snippetOf('reseau', 'Panne', 'Le réseau (Wi-Fi) est lent.')).toBe(
      'Panne | Le [réseau] (Wi-Fi) est lent.',
    );
  });

  test('when the punctuation touches a word, then only the word is marked, and words joined by a dash or an apostrophe are found', async () => {
    expect(await snippetOf('wifi', 'Le (wifi),', 'x')).toBe('Le ([wifi]), | x');
    expect(await snippetOf('application', 'Erreur', 'l’application se ferme')).toBe(
      'Erreur | l’[application] se ferme',
    );
  });

  test('when the match is far into a long description, then the excerpt shows the passage around it, not the beginning', async () => {
    const filler = (from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => `mot${from + i}`).join(' ');
    const description = `${filler(0, 100)} onduleur ${filler(100, 200)} onduleurs ${filler(200, 300)}`;
    const [title, snippet] = (await snippetOf('onduleur', 'Titre', description)).split(' | ');
    expect(title).toBe('Titre');
    const passages = snippet.split(' … ');
    expect(passages).toHaveLength(2);
    expect(passages[0]).toContain('[onduleur]');
    expect(passages[1]).toContain('[onduleurs]');
    expect(snippet).not.toContain('mot250');
    for (const p of passages) expect(p.split(' ').length).toBeLessThanOrEqual(30);
  });

  test('when the description does not match (the match is in the title, a reply or a note), then the excerpt is its first thirty words', async () => {
    const words = Array.from({ length: 40 }, (_, i) => `mot${i}`);
    expect(await snippetOf('zanzibar', 'Écran noir', words.join(' '))).toBe(
      `Écran noir | ${words.slice(0, 30).join(' ')}`,
    );
    expect(await snippetOf('ecran', 'Écran noir', 'Rien ne s’affiche.')).toBe(
      '[Écran] noir | Rien ne s’affiche.',
    );
    expect(await snippetOf('ecran', 'Écran noir', '')).toBe('[Écran] noir | ');
  });

  test('when a page holds thousands of words never seen, then a bounded number is asked of PostgreSQL at a time, and the rest on the next pages', async () => {
    const unseen = Array.from({ length: 2500 }, (_, i) => `jamaisvu${i}x`).join(' ');
    const description = `${unseen} ornithorynque`;
    const first = await snippetOf('ornithorynque', 'Journal collé', description);
    expect(first).not.toContain('[ornithorynque]');
    const next = await snippetOf('ornithorynque', 'Journal collé', description);
    expect(next).toContain('[ornithorynque]');
  });

  test('when a search has several words or excluded ones, then the lexemes of every operand are looked for', async () => {
    expect(queryLexemes(await tsquery('imprimante bloquée -laser'))).toEqual(
      new Set(['imprim', 'imprimante', 'bloque', 'bloquee', 'las', 'laser']),
    );
    expect(queryLexemes("'l''avion' & 'x'")).toEqual(new Set(["l'avion", 'x']));
  });
});
