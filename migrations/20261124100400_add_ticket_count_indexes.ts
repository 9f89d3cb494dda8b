import type { Knex } from 'knex';

/**
 * The queue's status tabs count tickets per status under each filter: these indexes answer
 * "priority = x and status = y" (and the same for category, assignee) without reading rows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('create index tickets_priority_status_idx on tickets (priority, status)');
  await knex.raw('create index tickets_category_status_idx on tickets (category_id, status)');
  await knex.raw('create index tickets_assignee_status_idx on tickets (assignee_id, status)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index tickets_assignee_status_idx');
  await knex.raw('drop index tickets_category_status_idx');
  await knex.raw('drop index tickets_priority_status_idx');
}
