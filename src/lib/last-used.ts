/**
 * `last_used_at` of a provider key or a tenant API key is accurate to this: a key in constant use
 * writes its record at most once per this time from each isolate, and the write itself is skipped
 * by the database when the record is younger (other isolates). README "Per-isolate caches".
 */
export const LAST_USED_RESOLUTION_MS = 60_000;

/**
 * Per isolate: when each key was last marked used here, so the hot path does not write a record
 * on every call. Bounded (the oldest mark goes first); a forgotten mark only costs one more write.
 */
export class UseMarks {
  private readonly marks = new Map<string, number>();

  constructor(private readonly maxEntries = 10_000) {}

  /** True (and marks `id` now) when `id` was not marked within the resolution; false otherwise. */
  due(id: string, now = Date.now()): boolean {
    const last = this.marks.get(id);
    if (last !== undefined && now - last < LAST_USED_RESOLUTION_MS) return false;
    this.marks.delete(id);
    this.marks.set(id, now);
    if (this.marks.size > this.maxEntries) this.marks.delete(this.marks.keys().next().value!);
    return true;
  }
}
