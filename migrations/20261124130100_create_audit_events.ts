import type { Knex } from 'knex';

/**
 * What admins did: who (actor), what (action on a subject), when, and from → to.
 * A row is never updated; deleting the actor keeps the row (actor_id set to null).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id');
    t.bigInteger('actor_id').references('users.id').onDelete('SET NULL');
    t.text('action').notNullable();
    t.text('subject_type').notNullable();
    t.bigInteger('subject_id');
    t.text('field');
    t.text('from_value');
    t.text('to_value');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['actor_id']);
  });
  await knex.raw(`
    alter table audit_events add constraint audit_events_subject_type_check
      check (subject_type in ('user', 'category', 'settings'))
  `);
  await knex.raw(
    'create index audit_events_subject_idx on audit_events (subject_type, subject_id, id desc)',
  );
  await knex.raw(
    'create index audit_events_created_idx on audit_events (created_at desc, id desc)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_events');
}
