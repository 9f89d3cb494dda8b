import type { Knex } from 'knex';

/** Invitation and password-reset links: the token is stored hashed, used once, and expires. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('password_tokens', (t) => {
    t.bigIncrements('id');
    t.bigInteger('user_id').notNullable().references('users.id').onDelete('CASCADE');
    t.text('token_hash').notNullable().unique();
    t.text('purpose').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('used_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['user_id']);
  });
  await knex.raw(`
    alter table password_tokens add constraint password_tokens_purpose_check
      check (purpose in ('invite', 'reset'))
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('password_tokens');
}
