import type { Knex } from 'knex';

/** The connect-pg-simple session table, plus an index to end one user's sessions. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table session (
      sid varchar not null primary key,
      sess json not null,
      expire timestamp(6) not null
    )
  `);
  await knex.raw('create index session_expire_idx on session (expire)');
  await knex.raw(`create index session_user_idx on session (((sess -> 'passport' ->> 'user')))`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('session');
}
