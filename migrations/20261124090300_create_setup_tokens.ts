import type { Knex } from 'knex';

/** One-time first-run tokens, stored hashed; every process may print its own. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('setup_tokens', (t) => {
    t.text('token_hash').primary();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('setup_tokens');
}
