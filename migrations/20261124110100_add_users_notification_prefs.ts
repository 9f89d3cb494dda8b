import type { Knex } from 'knex';

/** Which notification emails each person receives; a missing key means "yes". */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.jsonb('notification_prefs').notNullable().defaultTo('{}');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('users', (t) => {
    t.dropColumn('notification_prefs');
  });
}
