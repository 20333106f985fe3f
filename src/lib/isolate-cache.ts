import type { Background } from "./background";

/**
 * What a hot isolate already knows about a tenant, kept for a short time so the hot path
 * (a /v1 or chat call) does not fetch it again: the tenant's provider key from Vault (a region
 * away in production, tens of ms), its agent's config. One instance per kind of value, at module
 * scope (one per isolate); the time to keep is passed by the caller (`CACHE_TTL_MS`).
 *
 * - Every entry is keyed by tenant: a scope is part of every call, so no call can reach another
 *   tenant's entries. The scope is the tenant id, or, for the lookup that finds the tenant (a
 *   tenant API key's SHA-256), that hash itself: it belongs to exactly one key of one tenant.
 * - A change made through this isolate (rotation, deletion, update) evicts at once, and a read
 *   that started before the eviction does not put its (older) answer back: `load` stores only
 *   if no eviction happened while it was fetching. Other isolates serve what they hold until
 *   it is `ttlMs` old (README "Per-isolate caches").
 * - Refreshed ahead: a hit on an entry past half its `ttlMs`, when the caller gives a `Background`
 *   (the request's `waitUntil`), answers from the cache and re-reads the source off the response's
 *   path, so a key in steady use is never fetched on the hot path; the refreshed entry counts its
 *   age from when that read started, so nothing served is older than `ttlMs`.
 * - Bounded: beyond `maxEntries` the least recently used entry goes.
 * - Absence is not cached (a key stored elsewhere is seen at once), nor failures.
 * - Values are never logged or serialised by this module.
 */
/** When a cached value is re-read ahead of its expiry: past half its time (the budget cache follows it too). */
export const refreshDue = (ageMs: number, ttlMs: number) => ageMs >= ttlMs / 2;

export class IsolateCache<V> {
  private readonly entries = new Map<string, { value: V; at: number }>();
  /** Entries being refreshed ahead now (one refresh per entry at a time). */
  private readonly refreshing = new Set<string>();
  /** Counts evictions: a load stores its answer only if none happened while it was in flight. */
  private evictions = 0;

  constructor(private readonly maxEntries: number) {}

  /**
   * The value for the tenant's `key`, from the cache if it is younger than `ttlMs`, else from `fetch`
   * (then kept). With `refresh`, a hit past half the TTL also re-reads it in the background.
   */
  async load(
    scope: string,
    key: string,
    ttlMs: number,
    fetch: () => Promise<V | null>,
    refresh?: Background,
  ): Promise<V | null> {
    const id = entryId(scope, key);
    const now = Date.now();
    const hit = this.entries.get(id);
    if (hit && now - hit.at < ttlMs) {
      // Least recently used goes first: a hit moves the entry to the end.
      this.entries.delete(id);
      this.entries.set(id, hit);
      if (refresh && refreshDue(now - hit.at, ttlMs) && !this.refreshing.has(id))
        this.refreshAhead(id, now, fetch, refresh);
      return hit.value;
    }
    if (hit) this.entries.delete(id);
    const evictionsBefore = this.evictions;
    const value = await fetch();
    if (value !== null && ttlMs > 0 && this.evictions === evictionsBefore) {
      this.entries.set(id, { value, at: now });
      if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    }
    return value;
  }

  /** Re-reads an entry off the response's path; an eviction meanwhile wins, and absence at the source removes it. */
  private refreshAhead(id: string, now: number, fetch: () => Promise<V | null>, refresh: Background): void {
    this.refreshing.add(id);
    const evictionsBefore = this.evictions;
    refresh(
      "cache.refresh",
      (async () => {
        try {
          const value = await fetch();
          if (this.evictions !== evictionsBefore || !this.entries.has(id)) return;
          this.entries.delete(id);
          if (value !== null) this.entries.set(id, { value, at: now });
        } finally {
          this.refreshing.delete(id);
        }
      })(),
    );
  }

  /** Forgets the tenant's `key` (it changed or is gone), and keeps reads already in flight from storing theirs. */
  evict(scope: string, key: string): void {
    this.evictions++;
    this.entries.delete(entryId(scope, key));
  }

  /** How many entries are held (for tests and the bound). */
  get size(): number {
    return this.entries.size;
  }
}

// A scope is a tenant UUID (checked by authenticate) or a hex hash, so it cannot contain the separator.
const entryId = (scope: string, key: string) => `${scope}\u0000${key}`;
