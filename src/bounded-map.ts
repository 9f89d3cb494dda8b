/**
 * A Map that starts over once it holds `max` entries: for caches of values that are cheap to
 * compute again and only ever needed recently (formatted dates, translations, statement
 * names), where keeping an eviction order would cost more than it saves.
 */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max: number) {
    super();
  }

  override set(key: K, value: V): this {
    if (this.size >= this.max && !this.has(key)) this.clear();
    return super.set(key, value);
  }

  /**
   * The value kept for `key`, made by `make(key)` and kept the first time. `make` takes the key
   * so that a caller can pass one function made once, not a closure made at every call (a list
   * page asks for hundreds of these).
   */
  remember(key: K, make: (key: K) => V): V {
    let value = this.get(key);
    if (value === undefined) {
      value = make(key);
      this.set(key, value);
    }
    return value;
  }
}
