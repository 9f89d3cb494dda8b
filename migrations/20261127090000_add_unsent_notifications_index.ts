import type { Knex } from 'knex';

/**
 * The emails of a delivery key still to send, oldest first: what the worker reads before each
 * email it sends (delivery.ts, deliverKey). The index on (delivery_key, id) holds every email
 * ever queued for the key, so the planner combined it with the status index, which also keeps
 * an entry for each row's pending version until vacuum passes: after 110,000 emails, on a
 * database where vacuum had not caught up, each lookup read 220,000 index entries (7 ms) and
 * the outbox took twice as long to drain. This index holds the unsent rows only.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(
    `create index notifications_unsent_key_idx on notifications (delivery_key, id)
      where status in ('pending', 'retry', 'sending')`,
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index notifications_unsent_key_idx');
}
