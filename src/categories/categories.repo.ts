import type { Knex } from 'knex';
import { Conflict, isUniqueViolation } from '../http/errors';
import { sharedDataChanged } from '../shared-cache';

type Db = Knex | Knex.Transaction;

export interface Category {
  id: number;
  name: string;
  position: number;
  active: boolean;
  defaultAssigneeId: number | null;
  defaultAssigneeName: string | null;
  /** False when the default assignee was since deactivated or lost their staff role. */
  defaultAssigneeAvailable: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** What a ticket form offers: active categories only, in the admin's order. */
export interface CategoryOption {
  id: number;
  name: string;
}

/** A technician or admin who can be chosen as a category's default assignee. */
export interface Assignee {
  id: number;
  name: string;
}

interface CategoryRow {
  id: number;
  name: string;
  position: number;
  active: boolean;
  default_assignee_id: number | null;
  created_at: Date;
  updated_at: Date;
}

interface CategoryJoinedRow extends CategoryRow {
  assignee_name: string | null;
  assignee_available: boolean | null;
}

const toCategory = (r: CategoryJoinedRow): Category => ({
  id: r.id,
  name: r.name,
  position: r.position,
  active: r.active,
  defaultAssigneeId: r.default_assignee_id,
  defaultAssigneeName: r.assignee_name,
  defaultAssigneeAvailable: r.default_assignee_id === null || r.assignee_available === true,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

// The one order in which categories are shown, offered and moved.
const ORDER = ['categories.position', 'categories.name', 'categories.id'];
const STAFF = ['technician', 'admin'];

function selectCategories(db: Db) {
  return db('categories')
    .leftJoin('users', 'users.id', 'categories.default_assignee_id')
    .select(
      'categories.*',
      'users.name as assignee_name',
      db.raw('(users.active and users.role = any(?)) as assignee_available', [STAFF]),
    );
}

export async function listCategories(db: Db): Promise<Category[]> {
  const rows: CategoryJoinedRow[] = await selectCategories(db).orderBy(ORDER);
  return rows.map(toCategory);
}

export async function listActiveCategories(db: Db): Promise<CategoryOption[]> {
  return db('categories')
    .where({ active: true })
    .orderBy(ORDER)
    .select<CategoryOption[]>('id', 'name');
}

export async function findCategory(db: Db, id: number): Promise<Category | null> {
  const row: CategoryJoinedRow | undefined = await selectCategories(db)
    .where('categories.id', id)
    .first();
  return row ? toCategory(row) : null;
}

export interface NewCategory {
  name: string;
  defaultAssigneeId: number | null;
}

/** Inserts a category at the end of the list (position = max + 1). */
export async function insertCategory(db: Db, c: NewCategory): Promise<Category> {
  try {
    const [row] = await db<CategoryRow>('categories')
      .insert({
        name: c.name,
        default_assignee_id: c.defaultAssigneeId,
        position: db.raw(
          '(select coalesce(max(position), 0) + 1 from categories)',
        ) as unknown as number,
      })
      .returning('id');
    sharedDataChanged(db);
    return (await findCategory(db, row.id))!;
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict('categories.errors.name_taken');
    throw err;
  }
}

export interface CategoryChanges {
  name?: string;
  active?: boolean;
  defaultAssigneeId?: number | null;
  position?: number;
}

export async function updateCategory(db: Db, id: number, c: CategoryChanges): Promise<void> {
  const patch: Partial<CategoryRow> = {};
  if (c.name !== undefined) patch.name = c.name;
  if (c.active !== undefined) patch.active = c.active;
  if (c.defaultAssigneeId !== undefined) patch.default_assignee_id = c.defaultAssigneeId;
  if (c.position !== undefined) patch.position = c.position;
  try {
    await db<CategoryRow>('categories')
      .where({ id })
      .update({ ...patch, updated_at: db.fn.now() as unknown as Date });
    sharedDataChanged(db);
  } catch (err) {
    if (isUniqueViolation(err)) throw new Conflict('categories.errors.name_taken');
    throw err;
  }
}

/** Every category id in display order, locked until the end of the transaction. */
export async function lockCategoryOrder(
  trx: Knex.Transaction,
): Promise<{ id: number; position: number }[]> {
  return trx('categories')
    .orderBy(ORDER)
    .forUpdate()
    .select<{ id: number; position: number }[]>('id', 'position');
}

/** Who can be assigned tickets: active technicians and admins, by name. */
const ASSIGNEES_SQL = `select id, name from users
  where active and role in (${STAFF.map((r) => `'${r}'`).join(', ')}) order by name, id`;

export async function listAssignees(db: Db): Promise<Assignee[]> {
  return (await db.raw(ASSIGNEES_SQL)).rows as Assignee[];
}

export interface QueueFilterOptions {
  categories: (CategoryOption & { active: boolean })[];
  assignees: Assignee[];
}

const categoriesJson = (where: string) => `
  (select coalesce(json_agg(c), '[]') from (
     select id, name, active from categories ${where} order by position, name, id) c)`;
const ASSIGNEES_JSON = `(select coalesce(json_agg(a), '[]') from (${ASSIGNEES_SQL}) a)`;

/**
 * What the queue's filters offer (every category, and the staff), as two json columns
 * `categories` and `assignees`, for a query that selects other figures in the same round trip.
 */
export const QUEUE_FILTER_OPTION_COLUMNS = `${categoriesJson('')} as categories,
  ${ASSIGNEES_JSON} as assignees`;

/** What a ticket's fields offer staff (active categories, and the staff), in one round trip. */
export async function ticketFieldOptions(db: Db): Promise<QueueFilterOptions> {
  const result = await db.raw(
    `select ${categoriesJson('where active')} as categories, ${ASSIGNEES_JSON} as assignees`,
  );
  return result.rows[0] as QueueFilterOptions;
}

/**
 * Whether the user can be a default assignee (active technician or admin). The row is
 * share-locked so that it cannot be deactivated before the caller's transaction commits.
 */
export async function isAssignable(trx: Knex.Transaction, userId: number): Promise<boolean> {
  const row = await trx('users')
    .where({ id: userId, active: true })
    .whereIn('role', STAFF)
    .forShare()
    .first('id');
  return row !== undefined;
}
