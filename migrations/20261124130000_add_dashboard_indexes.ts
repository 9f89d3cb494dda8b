import type { Knex } from 'knex';

/** What the queue filters and sorts on, so a range of days is read from an index alone. */
const COVER =
  'id, last_activity_at, priority_rank, status, priority, category_id, assignee_id, requester_id';

/**
 * The dashboard reads only the open tickets (a small part of a long-lived desk) and the
 * recent stamps, and each of its figures links to the queue filtered by a range of days:
 * - open tickets by status, priority, category and assignment, and the oldest ones;
 * - created / resolved / first response per period and per week, and the queue's
 *   `created_*`, `resolved_*`, `responded_*` filters: index-only range scans.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create index tickets_open_idx on tickets (created_at, id)
      include (status, priority, category_id, assignee_id)
      where status in ('new', 'in_progress', 'waiting')
  `);
  // Replaces the plain (created_at desc, id desc) index: same order, plus what a range needs.
  await knex.raw('drop index tickets_created_idx');
  await knex.raw(
    `create index tickets_created_idx on tickets (created_at desc, id desc) include (${COVER.replace('id, ', '')})`,
  );
  await knex.raw(
    `create index tickets_resolved_at_idx on tickets (resolved_at) include (created_at, ${COVER}) where resolved_at is not null`,
  );
  await knex.raw(
    `create index tickets_first_response_idx on tickets (first_response_at) include (created_at, ${COVER}) where first_response_at is not null`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index tickets_first_response_idx');
  await knex.raw('drop index tickets_resolved_at_idx');
  await knex.raw('drop index tickets_created_idx');
  await knex.raw('create index tickets_created_idx on tickets (created_at desc, id desc)');
  await knex.raw('drop index tickets_open_idx');
}
