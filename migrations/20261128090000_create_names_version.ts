import type { Knex } from 'knex';

/**
 * A version of the names lists of tickets show (users' and categories'), changed by every
 * statement that adds or renames one: the server keeps the names it has read for as long as
 * the version it read them under holds (src/tickets/names.repo.ts), and a list's query reads
 * the version along with its rows, in the same snapshot.
 *
 * Each change draws a new random value rather than adding one: databases made from one
 * template (or restored from one backup) and then changed apart never reach the same version
 * with different names. A deleted row needs no new version: no ticket refers to it any more,
 * and its id is never given again.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table names_version (
      only_row boolean primary key default true check (only_row),
      version uuid not null default gen_random_uuid()
    );
    insert into names_version default values;

    create function guichet_names_changed() returns trigger
    language plpgsql as $$
    begin
      update names_version set version = gen_random_uuid();
      return null;
    end
    $$;

    create trigger users_names_changed after insert or update of name on users
      for each statement execute function guichet_names_changed();
    create trigger categories_names_changed after insert or update of name on categories
      for each statement execute function guichet_names_changed();
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop trigger categories_names_changed on categories;
    drop trigger users_names_changed on users;
    drop function guichet_names_changed();
    drop table names_version;
  `);
}
