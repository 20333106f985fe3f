/**
 * A second Neon stand-in, pooled over a real Postgres (NEON_HTTP_TEST_POSTGRES_URL; CI starts
 * one), so the Worker tests can run the key API's concurrency cases where requests really run
 * side by side (PGlite runs them one at a time). It gets a scratch schema with every table
 * the migrations create that does not need pgvector (Debian's PostgreSQL lacks it).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { neon, neonConfig } from "@neondatabase/serverless";
import { startNeonHttp } from "../local-stack/neon-http/server";
import { DEV } from "../local-stack/settings";

export async function startPooledNeon(postgresUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const schema = `gateway_test_${process.pid}_${Date.now()}`;
  // Each group commits in one transaction, as `npm run db:migrate` applies a migration (a LOCK TABLE in one needs it).
  const run = async (url: string, groups: string[][]) => {
    const server = await startNeonHttp({ postgresUrl: url });
    neonConfig.fetchEndpoint = server.url;
    try {
      const sql = neon(DEV.databaseUrl);
      for (const g of groups) await sql.transaction(g.map((s) => sql.query(s)));
    } finally {
      await server.close();
    }
  };
  await run(postgresUrl, [[`CREATE SCHEMA ${schema}`]]);
  const scoped = new URL(postgresUrl);
  scoped.searchParams.set("options", `-c search_path=${schema},public`);
  const dir = join(import.meta.dirname, "../migrations");
  const migrations = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort()
    .map((f) =>
      readFileSync(join(dir, f), "utf8")
        .split("--> statement-breakpoint")
        // The scratch schema stands in for `public`: drizzle-kit qualifies foreign keys' targets with it.
        .map((s) => s.trim().replaceAll('"public".', ""))
        .filter((s) => s && !/vector|knowledge_base/i.test(s)),
    )
    .filter((g) => g.length > 0);
  await run(scoped.toString(), migrations);
  const server = await startNeonHttp({ postgresUrl: scoped.toString() });
  return {
    url: server.url,
    close: async () => {
      await server.close();
      await run(postgresUrl, [[`DROP SCHEMA ${schema} CASCADE`]]).catch(() => undefined);
    },
  };
}
