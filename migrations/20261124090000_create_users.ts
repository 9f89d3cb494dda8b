import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.bigIncrements('id');
    t.text('email').notNullable();
    t.text('name').notNullable();
    t.text('role').notNullable().defaultTo('employee');
    t.text('locale');
    t.boolean('active').notNullable().defaultTo(true);
    t.text('password_hash');
    t.timestamp('last_login_at', { useTz: true });
    t.timestamps(true, true, false);
  });
  await knex.raw(`
    alter table users
      add constraint users_role_check check (role in ('employee', 'technician', 'admin')),
      add constraint users_locale_check check (locale in ('fr', 'en'))
  `);
  await knex.raw('create unique index users_email_lower_unique on users (lower(email))');
  await knex.raw('create index users_role_active_idx on users (role, active)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('users');
}
