import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-http";
import type { Config } from "../config";
import { schema } from "./schema";

/** The database handle (drizzle over Neon's HTTP API). */
export type Database = ReturnType<typeof build>;

function build(databaseUrl: string, timeoutMs: number) {
  const client = neon(databaseUrl, {
    // The driver spreads `fetchOptions` into every fetch it makes, so this getter
    // gives each call its own deadline (response body included). Without it a
    // Neon that accepts the connection but never answers hangs the request.
    // The abort becomes a NeonDbError without SQLSTATE → 503 database_unavailable.
    fetchOptions: {
      get signal() {
        return AbortSignal.timeout(timeoutMs);
      },
    },
  });
  return drizzle({ client, schema });
}

/**
 * Per isolate, one handle per database URL and timeout. A neon-http client holds
 * no connection and no per-request state (each query is one HTTPS call), so it is
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
  const key = `${config.databaseTimeoutMs} ${config.databaseUrl}`;
  let db = handles.get(key);
  if (!db) {
    db = build(config.databaseUrl, config.databaseTimeoutMs);
    handles.set(key, db);
  }
  return db;
}
