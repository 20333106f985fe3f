import type { Database } from "./client";

const cache = new WeakMap<Database, Map<string, unknown>>();

/**
 * A drizzle prepared query, built once per database handle (per isolate) and
 * reused with new placeholder values. Building a query walks drizzle's
 * entity checks and renders SQL each time; hot paths (every key read, every
 * audit row) skip that. Over HTTP nothing is prepared server-side.
 */
export function prepared<T>(db: Database, name: string, build: (db: Database) => T): T {
  let forDb = cache.get(db);
  if (!forDb) {
    forDb = new Map();
    cache.set(db, forDb);
  }
  let query = forDb.get(name) as T | undefined;
  if (!query) {
    query = build(db);
    forDb.set(name, query);
  }
  return query;
}
