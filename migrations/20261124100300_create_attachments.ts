import type { Knex } from 'knex';

/** Files stored under UPLOAD_DIR with random names; the original name is only metadata. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('attachments', (t) => {
    t.bigIncrements('id');
    t.bigInteger('ticket_id').notNullable().references('tickets.id').onDelete('CASCADE');
    t.bigInteger('event_id').references('ticket_events.id').onDelete('SET NULL');
    t.bigInteger('uploader_id').references('users.id').onDelete('SET NULL');
    t.text('original_name').notNullable();
    t.text('stored_name').notNullable().unique();
    t.text('content_type').notNullable();
    t.bigInteger('size_bytes').notNullable();
    t.string('sha256', 64).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['ticket_id']);
    t.index(['event_id']);
    t.index(['uploader_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('attachments');
}
