import { neon, neonConfig } from "@neondatabase/serverless";
import { drizzle } from "drizzle-orm/neon-http";
import type { Config } from "../config";
import { schema } from "./schema";

/** The per-request database handle (drizzle over Neon's HTTP API). */
export type Database = ReturnType<typeof createDb>;

/**
 * Builds a drizzle client for this request. `neon()` opens nothing: each query is one HTTPS call.
 * NEON_FETCH_ENDPOINT is the one switch to a local stand-in; without it Neon's default endpoint is used.
 */
export function createDb(config: Config) {
  if (config.neonFetchEndpoint) {
    // Global to the module by the driver's design; config is per isolate too, so this is stable.
    neonConfig.fetchEndpoint = config.neonFetchEndpoint;
  }
  return drizzle({ client: neon(config.databaseUrl), schema });
}
