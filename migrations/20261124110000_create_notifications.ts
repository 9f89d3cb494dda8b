import type { Knex } from 'knex';

/**
 * The email outbox: one row per email, written in the transaction of the change that caused
 * it, with its rendered content, then delivered by a job. `delivery_key` groups the emails
 * that must leave in order (all those of one ticket).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notifications', (t) => {
    t.bigIncrements('id');
    t.bigInteger('ticket_id').references('tickets.id').onDelete('SET NULL');
    t.bigInteger('recipient_id').references('users.id').onDelete('SET NULL');
    t.text('to_email').notNullable();
    t.text('to_name');
    t.text('locale').notNullable();
    t.text('kind').notNullable();
    t.text('subject').notNullable();
    t.text('text_body').notNullable();
    t.text('html_body').notNullable();
    t.text('message_id').notNullable().unique();
    t.text('in_reply_to');
    t.text('references');
    t.text('delivery_key').notNullable();
    t.text('status').notNullable().defaultTo('pending');
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('last_error');
    t.text('smtp_response');
    t.timestamp('next_attempt_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('sending_since', { useTz: true });
    t.timestamp('sent_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['ticket_id']);
    t.index(['recipient_id']);
    t.index(['delivery_key', 'id']);
    t.index(['status', 'created_at']);
    t.index(['created_at']);
  });
  await knex.raw(`
    alter table notifications add constraint notifications_status_check
      check (status in ('pending', 'sending', 'retry', 'sent', 'failed'))
  `);
  await knex.raw(`create index notifications_due_idx on notifications (next_attempt_at)
    where status in ('pending', 'retry', 'sending')`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('notifications');
}
