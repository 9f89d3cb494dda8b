import type { Knex } from 'knex';

/**
 * The most recent matches of a search, ranked, as a function: a page of results for a frequent
 * word is then one prepared statement (queue.repo.ts, relevancePage), parsed and planned once
 * per connection, where the same query sent as written cost about 0.4 ms of planning on every
 * page.
 *
 * The query could not simply be prepared: a kept plan does not know how frequent the word is,
 * and for an unknown word the planner reads the recency index whole into a bitmap (a second at
 * 1,000,000 tickets). Inside this function, bitmap and sequential scans are off, so every plan,
 * the kept one included, walks tickets_recent_search_idx by last activity: the one plan that
 * stays fast for any word the caller sends here (a word found in 2 % of the tickets or more).
 *
 * The condition on the joined vectors must be written as the index is (see
 * 20261125090000_add_recent_search_index); the plain condition after it keeps the exact
 * matches, and leaves out the notes when they are not searched. A query excluding a word
 * (`!`) must not come here: the word may be in a ticket's notes only, and the joined vectors
 * would then leave out a ticket that matches (queue.repo.ts, denseSearch, keeps them away).
 * The rank is queue.repo.ts's rankSql, written again: the two change together.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create function guichet_recent_ranked(q tsquery, with_notes boolean, how_many integer)
    returns table (id bigint, rank real)
    language plpgsql stable
    set enable_bitmapscan = off
    set enable_seqscan = off
    rows 250
    as $$
    begin
      return query
        select t.id,
               ts_rank(t.search_vector, q)
                 + case when with_notes then ts_rank(t.notes_vector, q) else 0 end
          from tickets t
         where (case when t.notes_vector = ''::tsvector then t.search_vector
                     else t.search_vector || t.notes_vector end) @@ q
           and (t.search_vector @@ q or (with_notes and t.notes_vector @@ q))
         order by t.last_activity_at <-> '9999-12-31'::timestamptz
         limit how_many;
    end
    $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop function guichet_recent_ranked(tsquery, boolean, integer)');
}
