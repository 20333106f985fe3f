import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-http";
import type { Config } from "../config";
import { schema } from "./schema";

/** The database handle (drizzle over Neon's HTTP API). */
export type Database = ReturnType<typeof build>;

function build(databaseUrl: string) {
  return drizzle({ client: neon(databaseUrl), schema });
}

/**
 * Per isolate, one handle per database URL. A neon-http client holds no
 * connection and no per-request state (each query is one HTTPS call), so it is
 * immutable like the parsed config; building drizzle's relational metadata on
 * every request cost ~60 µs of CPU (measured with `npm run bench`).
 */
const handles = new Map<string, Database>();

/**
 * The database for this request's config. NEON_FETCH_ENDPOINT is the one switch
 * to a local stand-in; without it Neon's default endpoint is used.
 */
export function createDb(config: Config): Database {
  if (config.neonFetchEndpoint) {
    // Global to the module by the driver's design; config is per isolate too, so this is stable.
    neonConfig.fetchEndpoint = config.neonFetchEndpoint;
  }
  let db = handles.get(config.databaseUrl);
  if (!db) {
    db = build(config.databaseUrl);
    handles.set(config.databaseUrl, db);
  }
  return db;
}
