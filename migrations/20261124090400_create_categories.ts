import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('categories', (t) => {
    t.bigIncrements('id');
    t.text('name').notNullable();
    t.integer('position').notNullable().defaultTo(0);
    t.boolean('active').notNullable().defaultTo(true);
    t.bigInteger('default_assignee_id').references('users.id').onDelete('SET NULL');
    t.timestamps(true, true, false);
    t.index(['default_assignee_id']);
    t.index(['active', 'position']);
  });
  await knex.raw('create unique index categories_name_lower_unique on categories (lower(name))');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('categories');
}
