import type { Knex } from 'knex';
import { BoundedMap } from './bounded-map';

let generation = 0;

/**
 * Called by the repositories when they write what shared figures are made of (tickets, their
 * categories, who can be assigned): every SharedCache of this process starts over, at once and
 * again when the transaction commits, so that a figure computed in between is not kept.
 */
export function sharedDataChanged(db: Knex | Knex.Transaction): void {
  generation++;
  if (db.isTransaction) {
    const bump = () => void generation++;
    (db as Knex.Transaction).executionPromise.then(bump, bump);
  }
}

export interface SharedCacheOptions {
  ttlMs: number;
  now?: () => number;
  /** A write of this process (sharedDataChanged) makes every value stale at once. */
  staleOnWrite?: boolean;
  /** Keys kept at most (the cache starts over past it). */
  max?: number;
}

/**
 * Values computed at most once per `ttlMs` per key and shared by every request of this
 * process: requests that arrive while a value is computed wait for the same result, and a
 * computation that fails is forgotten. Other processes' writes show once `ttlMs` has passed.
 */
export class SharedCache<K, V> {
  private readonly entries: BoundedMap<K, { at: number; generation: number; value: Promise<V> }>;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private readonly staleOnWrite: boolean;

  constructor(options: SharedCacheOptions) {
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
    this.staleOnWrite = options.staleOnWrite ?? false;
    this.entries = new BoundedMap(options.max ?? 1_000);
  }

  get(key: K, compute: () => Promise<V>): Promise<V> {
    const at = this.now();
    const hit = this.entries.get(key);
    if (hit && at - hit.at < this.ttlMs && (!this.staleOnWrite || hit.generation === generation))
      return hit.value;
    const entry = { at, generation, value: compute() };
    if (this.ttlMs <= 0) return entry.value;
    this.entries.set(key, entry);
    entry.value.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry.value;
  }
}
