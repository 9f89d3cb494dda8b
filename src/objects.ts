/**
 * `{ ...base, ...fields }`, for the objects made on every request (a queue's filters, their
 * variants). Node 20's V8 is slow to add properties after a spread: `{ ...filter, sort, cursor,
 * statuses }` took 2.9 µs where Object.assign into a new object took 0.3.
 */
export function withFields<B extends object, F extends object>(
  base: B,
  fields: F,
): Omit<B, keyof F> & F {
  return Object.assign({}, base, fields);
}
