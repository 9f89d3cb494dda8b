import type { Knex } from 'knex';

/**
 * The timeline: public replies, internal notes and every field change with from/to values.
 * actor_id is null for changes made by the system (auto-close).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('ticket_events', (t) => {
    t.bigIncrements('id');
    t.bigInteger('ticket_id').notNullable().references('tickets.id').onDelete('CASCADE');
    t.bigInteger('actor_id').references('users.id').onDelete('SET NULL');
    t.text('type').notNullable();
    t.boolean('internal').notNullable().defaultTo(false);
    t.text('body');
    t.text('from_value');
    t.text('to_value');
    // The ticket's version after this event: what changed since the version a user saw.
    t.integer('ticket_version').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['ticket_id', 'id']);
    t.index(['actor_id']);
  });
  await knex.raw(`
    alter table ticket_events add constraint ticket_events_type_check check (type in (
      'ticket.created', 'comment.added', 'note.added', 'ticket.status_changed',
      'ticket.priority_changed', 'ticket.category_changed', 'ticket.assigned'
    ))
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('ticket_events');
}
