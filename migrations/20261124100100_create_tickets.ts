import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('tickets', (t) => {
    t.bigIncrements('id');
    t.text('title').notNullable();
    t.text('description').notNullable();
    t.text('status').notNullable().defaultTo('new');
    t.text('priority').notNullable().defaultTo('normal');
    t.bigInteger('category_id').references('categories.id').onDelete('RESTRICT');
    t.bigInteger('requester_id').notNullable().references('users.id').onDelete('RESTRICT');
    t.bigInteger('assignee_id').references('users.id').onDelete('SET NULL');
    t.bigInteger('created_by_id').notNullable().references('users.id').onDelete('RESTRICT');
    // Optimistic locking: every change carries the version the user saw.
    t.integer('version').notNullable().defaultTo(1);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('last_activity_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('first_response_at', { useTz: true });
    t.timestamp('resolved_at', { useTz: true });
    t.timestamp('closed_at', { useTz: true });
    t.specificType('search_vector', 'tsvector').notNullable().defaultTo(knex.raw(`''::tsvector`));
    // Internal notes, searched by staff only.
    t.specificType('notes_vector', 'tsvector').notNullable().defaultTo(knex.raw(`''::tsvector`));
  });
  await knex.raw(`
    alter table tickets
      add constraint tickets_status_check
        check (status in ('new', 'in_progress', 'waiting', 'resolved', 'closed')),
      add constraint tickets_priority_check
        check (priority in ('low', 'normal', 'high', 'urgent')),
      add column priority_rank smallint generated always as (
        case priority when 'urgent' then 0 when 'high' then 1 when 'normal' then 2 else 3 end
      ) stored
  `);
  // One index per filter and sort of the queue; each ends with id for keyset paging.
  const indexes = [
    'create index tickets_activity_idx on tickets (last_activity_at desc, id desc)',
    'create index tickets_created_idx on tickets (created_at desc, id desc)',
    'create index tickets_priority_age_idx on tickets (priority_rank, created_at, id)',
    'create index tickets_status_activity_idx on tickets (status, last_activity_at desc, id desc)',
    'create index tickets_priority_activity_idx on tickets (priority, last_activity_at desc, id desc)',
    'create index tickets_assignee_activity_idx on tickets (assignee_id, last_activity_at desc, id desc)',
    'create index tickets_category_activity_idx on tickets (category_id, last_activity_at desc, id desc)',
    'create index tickets_requester_activity_idx on tickets (requester_id, last_activity_at desc, id desc)',
    'create index tickets_created_by_idx on tickets (created_by_id)',
    "create index tickets_resolved_idx on tickets (resolved_at) where status = 'resolved'",
    'create index tickets_search_idx on tickets using gin (search_vector)',
    'create index tickets_notes_search_idx on tickets using gin (notes_vector)',
  ];
  for (const sql of indexes) await knex.raw(sql);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('tickets');
}
