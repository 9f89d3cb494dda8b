import type { Knex } from 'knex';

/**
 * Full-text search in French and in any language: `guichet_fr` stems French words after
 * removing accents (imprimantes → imprim, réseau → reseau); `guichet_simple` keeps words as
 * they are (English terms, product names). Documents and queries use both.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('create extension if not exists unaccent');
  await knex.raw('create text search configuration guichet_fr (copy = french)');
  await knex.raw(
    'alter text search configuration guichet_fr alter mapping for hword, hword_part, word with unaccent, french_stem',
  );
  await knex.raw('create text search configuration guichet_simple (copy = simple)');
  await knex.raw(
    'alter text search configuration guichet_simple alter mapping for hword, hword_part, word with unaccent, simple',
  );
  await knex.raw(`
    create function guichet_tsv(doc text, weight "char") returns tsvector
    language sql stable parallel safe as $$
      select setweight(to_tsvector('guichet_fr', coalesce(doc, '')), weight)
          || setweight(to_tsvector('guichet_simple', coalesce(doc, '')), weight)
    $$
  `);
  await knex.raw(`
    create function guichet_tsq(query text) returns tsquery
    language sql stable parallel safe as $$
      select websearch_to_tsquery('guichet_fr', query) || websearch_to_tsquery('guichet_simple', query)
    $$
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function if exists guichet_tsq(text)');
  await knex.raw('drop function if exists guichet_tsv(text, "char")');
  await knex.raw('drop text search configuration if exists guichet_simple');
  await knex.raw('drop text search configuration if exists guichet_fr');
  // The unaccent extension stays: other schemas may use it.
}
