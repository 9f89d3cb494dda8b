import { prepared } from '../../src/db/prepared';
import { createTestDatabase, type TestDatabase } from '../support/test-db';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(() => t.drop());

describe('prepared statements', () => {
  test('when values are bound, then each ? gets its own, in order, and the same SQL runs again with others', async () => {
    const sql = `select ?::int as a, ?::text as b, ?::int[] as c, 'it''s' as d`;
    const first = await prepared<{ a: number; b: string; c: number[]; d: string }>(t.db, sql, [
      1,
      'un',
      [2, 3],
    ]);
    expect(first.rows).toEqual([{ a: 1, b: 'un', c: [2, 3], d: "it's" }]);
    const second = await prepared(t.db, sql, [4, 'deux', []]);
    expect(second.rows).toEqual([{ a: 4, b: 'deux', c: [], d: "it's" }]);
  });

  test('when SQL uses another binding syntax, then it is refused before anything is sent', async () => {
    await expect(prepared(t.db, 'select ?? from users', ['id'])).rejects.toThrow(/a \? for each/);
  });

  test('when it runs in a transaction, then it sees what the transaction wrote, and nothing is left after a rollback', async () => {
    const email = 'prepared-trx@example.test';
    const count = 'select count(*)::int as n from users where email = ?';
    await t.db
      .transaction(async (trx) => {
        await trx('users').insert({ email, name: 'Dans la transaction', role: 'employee' });
        expect((await prepared(trx, count, [email])).rows[0].n).toBe(1);
        // Another connection does not see it yet.
        expect((await prepared(t.db, count, [email])).rows[0].n).toBe(0);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect((await prepared(t.db, count, [email])).rows[0].n).toBe(0);
  });

  test('when many run at once, or fail, then every connection goes back to the pool', async () => {
    // Four times the pool (5 connections), then failures: all of them answer.
    const many = await Promise.all(
      Array.from({ length: 20 }, (_, i) => prepared(t.db, 'select ?::int as i', [i])),
    );
    expect(many.map((r) => r.rows[0].i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    for (let i = 0; i < 6; i++) {
      await expect(prepared(t.db, 'select 1 / ?::int as x', [0])).rejects.toThrow(
        /division by zero/,
      );
    }
    const pool = t.db.client.pool as { numUsed(): number };
    expect(pool.numUsed()).toBe(0);
    expect((await t.db.raw('select 1 as one')).rows[0].one).toBe(1);
  });
});
