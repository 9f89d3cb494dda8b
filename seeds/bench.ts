import { Algorithm, hash } from '@node-rs/argon2';
import type { Knex } from 'knex';

/**
 * Benchmark data: `npm run seed:bench -- --tickets 1000000`. Set-based SQL (generate_series)
 * in batches, so a million tickets with their timelines take minutes, not hours. Deterministic
 * (setseed), and idempotent for users and categories; tickets are added to what is there.
 *
 * Shape: 2,000 employees, 20 technicians, 2 admins (password `guichet-bench`), 12 categories;
 * tickets over three years, 70 % closed, with 3 to 4 timeline events each; ticket #1 of the
 * run gets 50 events (the benchmark's "ticket page with 50 timeline events").
 */

export const BENCH_PASSWORD = 'guichet-bench';
const EMPLOYEES = 2000;
const TECHNICIANS = 20;
const BATCH = 100_000;

const CATEGORIES = [
  'Poste de travail',
  'Réseau & VPN',
  'Messagerie',
  'Imprimantes',
  'Logiciels',
  'Comptes & accès',
  'Téléphonie',
  'Matériel',
  'Sécurité',
  'Serveurs',
  'Applications métier',
  'Autre',
];

const SUBJECTS = [
  'Imprimante du 2e étage en panne',
  'Le réseau Wi-Fi est très lent',
  'Impossible de se connecter au VPN',
  'Mot de passe expiré, compte bloqué',
  'Outlook ne synchronise plus les messages',
  'Écran noir au démarrage du portable',
  'Demande d’installation de logiciel',
  'Printer jammed on the third floor',
  'Cannot access the shared drive',
  'Laptop battery drains quickly',
  'Téléphone de bureau sans tonalité',
  'Accès refusé à l’application de paie',
  'Clavier et souris sans fil ne répondent plus',
  'Teams se ferme tout seul',
  'New employee needs an account',
  'Scanner réseau introuvable',
];

const DETAILS = [
  'Depuis ce matin, le problème revient à chaque tentative. J’ai redémarré sans succès.',
  'Le message d’erreur indique « accès refusé » puis l’application se ferme.',
  'Since yesterday the issue happens every time; restarting did not help.',
  'Plusieurs collègues du service comptabilité ont le même souci.',
  'Urgent : réunion client cet après-midi, merci de votre aide rapide.',
  'The error code shown is 0x80070005 and the log mentions a timeout.',
];

export async function seedBench(
  knex: Knex,
  opts: { tickets: number; log?: (line: string) => void },
): Promise<void> {
  const log = opts.log ?? (() => undefined);
  const passwordHash = await hash(BENCH_PASSWORD, {
    algorithm: Algorithm.Argon2id,
    memoryCost: 19456,
    timeCost: 2,
    parallelism: 1,
  });

  await knex.raw(
    `insert into users (email, name, role, locale, password_hash)
     select 'employee' || g || '@bench.guichet.local', 'Employé ' || g, 'employee',
            case when g % 5 = 0 then 'en' else 'fr' end, ?
       from generate_series(1, ?) g
     on conflict do nothing`,
    [passwordHash, EMPLOYEES],
  );
  await knex.raw(
    `insert into users (email, name, role, locale, password_hash)
     select 'tech' || g || '@bench.guichet.local', 'Technicien ' || g, 'technician', 'fr', ?
       from generate_series(1, ?) g
     union all
     select 'admin' || g || '@bench.guichet.local', 'Admin ' || g, 'admin', 'fr', ?
       from generate_series(1, 2) g
     on conflict do nothing`,
    [passwordHash, TECHNICIANS, passwordHash],
  );
  for (const [i, name] of CATEGORIES.entries()) {
    const exists = await knex('categories').whereRaw('lower(name) = lower(?)', [name]).first('id');
    if (!exists) await knex('categories').insert({ name, position: i + 1 });
  }
  log(`users and categories ready (${EMPLOYEES} employees, ${TECHNICIANS} technicians, 2 admins)`);

  const employees = `(select array_agg(id order by id) from users where email like 'employee%@bench.guichet.local')`;
  const techs = `(select array_agg(id order by id) from users where email like 'tech%@bench.guichet.local')`;
  const categories = `(select array_agg(id order by id) from categories)`;
  const firstId = Number(
    (await knex.raw(`select coalesce(max(id), 0) + 1 as n from tickets`)).rows[0].n,
  );

  for (let done = 0; done < opts.tickets; done += BATCH) {
    const n = Math.min(BATCH, opts.tickets - done);
    const started = Date.now();
    await knex.transaction(async (trx) => {
      await trx.raw('select setseed(?)', [(done / Math.max(opts.tickets, 1)) * 0.9]);
      // One row per ticket; the random draws are made once in `base`, then reused.
      await trx.raw(
        `with params as (
           select ${employees} as emp, ${techs} as tech, ${categories} as cat,
                  ?::text[] as subjects, ?::text[] as details
         ), base as (
           select g,
                  random() as r_status, random() as r_prio, random() as r_age, random() as r_life,
                  (random() * 100000)::int as r1, (random() * 100000)::int as r2
             from generate_series(1, ?) g
         ), shaped as (
           select b.*,
                  case when r_status < 0.70 then 'closed' when r_status < 0.80 then 'resolved'
                       when r_status < 0.88 then 'in_progress' when r_status < 0.95 then 'new'
                       else 'waiting' end as status,
                  case when r_prio < 0.15 then 'low' when r_prio < 0.80 then 'normal'
                       when r_prio < 0.95 then 'high' else 'urgent' end as priority,
                  now() - (r_age * interval '1095 days') as created_at
             from base b
         )
         insert into tickets (title, description, status, priority, category_id, requester_id,
                              assignee_id, created_by_id, version, created_at, updated_at,
                              last_activity_at, first_response_at, resolved_at, closed_at,
                              search_vector)
         select s.title, s.description, s.status, s.priority,
                p.cat[1 + s.r2 % array_length(p.cat, 1)],
                p.emp[1 + s.r1 % array_length(p.emp, 1)] as requester,
                case when s.status = 'new' and s.r2 % 3 = 0 then null
                     else p.tech[1 + s.r2 % array_length(p.tech, 1)] end,
                p.emp[1 + s.r1 % array_length(p.emp, 1)],
                3, s.created_at, s.last_activity_at, s.last_activity_at,
                case when s.status <> 'new' then s.created_at + interval '2 hours' * (1 + s.r_life * 10) end,
                case when s.status in ('resolved', 'closed') then s.last_activity_at - interval '1 hour' end,
                case when s.status = 'closed' then s.last_activity_at end,
                guichet_tsv(s.title, 'A') || guichet_tsv(s.description, 'B')
           from params p,
                lateral (
                  select sh.*,
                         p.subjects[1 + sh.r1 % array_length(p.subjects, 1)]
                           || case when sh.g % 7 = 0 then ' (bis)' else '' end as title,
                         p.details[1 + sh.r2 % array_length(p.details, 1)] || ' '
                           || p.details[1 + (sh.r1 + sh.r2) % array_length(p.details, 1)] as description,
                         least(now(), sh.created_at + interval '1 day' * (sh.r_life * 20)) as last_activity_at
                    from shaped sh
                ) s`,
        [SUBJECTS, DETAILS, n],
      );
    });
    log(`tickets ${done + n}/${opts.tickets} (${Date.now() - started} ms)`);
  }
  const lastId = Number(
    (await knex.raw(`select coalesce(max(id), 0) as n from tickets`)).rows[0].n,
  );

  // Timelines: created, a staff reply, and a status change for every finished ticket.
  for (let from = firstId; from <= lastId; from += BATCH) {
    const to = Math.min(from + BATCH - 1, lastId);
    const started = Date.now();
    await knex.raw(
      `insert into ticket_events (ticket_id, actor_id, type, internal, body, from_value, to_value, ticket_version, created_at)
       select t.id, t.created_by_id, 'ticket.created', false, null, null, null, 1, t.created_at
         from tickets t where t.id between ? and ?
       union all
       select t.id, t.assignee_id, 'comment.added', false,
              'Bonjour, nous regardons votre demande. Pouvez-vous préciser le message d’erreur \\?',
              null, null, 2, t.first_response_at
         from tickets t where t.id between ? and ? and t.first_response_at is not null
       union all
       select t.id, t.assignee_id, 'ticket.status_changed', false, null, 'in_progress', t.status, 3, t.last_activity_at
         from tickets t where t.id between ? and ? and t.status in ('resolved', 'closed', 'waiting')`,
      [from, to, from, to, from, to],
    );
    log(`timelines ${to - firstId + 1}/${lastId - firstId + 1} (${Date.now() - started} ms)`);
  }

  // One ticket with a 50-event timeline, for the ticket-page benchmark.
  if (lastId >= firstId) {
    await knex.raw(
      `insert into ticket_events (ticket_id, actor_id, type, internal, body, ticket_version, created_at)
       select ?, case when g % 2 = 0 then t.requester_id else coalesce(t.assignee_id, t.requester_id) end,
              case when g % 5 = 0 then 'note.added' else 'comment.added' end, g % 5 = 0,
              'Message ' || g || ' : ' || repeat('Détails du diagnostic, étape par étape. ', 5), 3,
              t.created_at + g * interval '10 minutes'
         from tickets t,
              generate_series(1, 50 - (select count(*)::int from ticket_events where ticket_id = ?)) g
        where t.id = ?`,
      [firstId, firstId, firstId],
    );
  }
  // Vacuum too: the visibility map lets the status counts use index-only scans.
  await knex.raw('vacuum analyze tickets');
  await knex.raw('vacuum analyze ticket_events');
  await knex.raw('analyze users');
  log(`done: tickets ${firstId}..${lastId}; ticket #${firstId} has a 50-event timeline`);
}

/** Knex seed entry point (`knex seed:run --specific bench.ts`): 10,000 tickets. */
export async function seed(knex: Knex): Promise<void> {
  await seedBench(knex, { tickets: 10_000, log: (l) => process.stdout.write(`${l}\n`) });
}
