import type { Knex } from 'knex';
import { activation, changes, recordAudit } from '../audit/audit.repo';
import { AppError, Forbidden, NotFound } from '../http/errors';
import type { Role } from '../users/users.repo';
import * as repo from './categories.repo';

export class InvalidAssigneeError extends AppError {
  constructor() {
    super(422, 'categories.errors.invalid_assignee');
  }
}

export type Direction = 'up' | 'down';

interface Actor {
  id: number;
  role: Role;
}

function assertAdmin(actor: Actor): void {
  if (actor.role !== 'admin') throw new Forbidden();
}

async function checkAssignee(trx: Knex.Transaction, id: number | null): Promise<void> {
  if (id !== null && !(await repo.isAssignable(trx, id))) throw new InvalidAssigneeError();
}

export async function createCategory(
  db: Knex,
  actor: Actor,
  input: { name: string; defaultAssigneeId: number | null },
): Promise<repo.Category> {
  assertAdmin(actor);
  return db.transaction(async (trx) => {
    await checkAssignee(trx, input.defaultAssigneeId);
    const category = await repo.insertCategory(trx, input);
    await recordAudit(trx, actor.id, [
      {
        action: 'category.created',
        subjectType: 'category',
        subjectId: category.id,
        to: category.name,
      },
    ]);
    return category;
  });
}

/**
 * Renames a category, changes its default assignee or (de)activates it. A deactivated
 * category keeps its row, so the tickets filed under it keep their category.
 */
export async function editCategory(
  db: Knex,
  actor: Actor,
  id: number,
  input: { name: string; defaultAssigneeId: number | null; active: boolean },
): Promise<void> {
  assertAdmin(actor);
  await db.transaction(async (trx) => {
    const before = await repo.findCategory(trx, id);
    if (!before) throw new NotFound();
    await checkAssignee(trx, input.defaultAssigneeId);
    await repo.updateCategory(trx, id, input);
    const after = await repo.findCategory(trx, id);
    if (!after) throw new NotFound();
    await recordAudit(trx, actor.id, [
      ...changes('category', id, before, after, {
        name: 'category.renamed',
        defaultAssigneeName: 'category.default_assignee_changed',
      }),
      ...activation('category', id, before, after),
    ]);
  });
}

/**
 * Swaps a category with its neighbour in the displayed order. Positions are renumbered
 * 1…n in the same transaction, so ties or gaps left by concurrent creations cannot make a
 * swap a no-op. Returns false when the category is already first (up) or last (down).
 */
export async function moveCategory(
  db: Knex,
  actor: Actor,
  id: number,
  direction: Direction,
): Promise<boolean> {
  assertAdmin(actor);
  return db.transaction(async (trx) => {
    const order = await repo.lockCategoryOrder(trx);
    const from = order.findIndex((c) => c.id === id);
    if (from === -1) throw new NotFound();
    const to = direction === 'up' ? from - 1 : from + 1;
    if (to < 0 || to >= order.length) return false;
    [order[from], order[to]] = [order[to], order[from]];
    await recordAudit(trx, actor.id, [
      {
        action: 'category.moved',
        subjectType: 'category',
        subjectId: id,
        from: from + 1,
        to: to + 1,
      },
    ]);
    for (const [index, c] of order.entries()) {
      if (c.position !== index + 1) await repo.updateCategory(trx, c.id, { position: index + 1 });
    }
    return true;
  });
}
