import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { neon, neonConfig } from "@neondatabase/serverless";
import * as schema from "../../src/db/schema";
import { startNeonHttp, type NeonHttpServer } from "../../local-stack/neon-http/server";
import { migrateDatabase } from "../../scripts/migrate";

// drizzle-kit's API is CommonJS.
const { generateDrizzleJson, generateMigration } = createRequire(import.meta.url)(
  "drizzle-kit/api",
) as typeof import("drizzle-kit/api");

const DB_URL = "postgresql://u:p@ep-test.localtest.me/brain";

function lastSnapshot() {
  const files = readdirSync("migrations/meta")
    .filter((f) => f.endsWith("_snapshot.json"))
    .sort();
  return JSON.parse(readFileSync(`migrations/meta/${files.at(-1)}`, "utf8"));
}

describe("schema and migrations", () => {
  it("the migrations describe exactly the drizzle schema (run `npm run db:generate` after changing it)", async () => {
    const { sql: _sql, schema: _all, EMBEDDING_DIMENSIONS: _d, ...tables } = schema;
    const current = generateDrizzleJson(tables);
    const pending = await generateMigration(lastSnapshot(), current);
    expect(pending).toEqual([]);
  });

  it("the first migration creates the vector extension", () => {
    const first = readdirSync("migrations")
      .filter((f) => f.endsWith(".sql"))
      .sort()[0]!;
    expect(readFileSync(`migrations/${first}`, "utf8")).toMatch(/CREATE EXTENSION IF NOT EXISTS vector/);
  });

  describe("applied to Postgres through the Neon stand-in", () => {
    let server: NeonHttpServer;
    beforeAll(async () => {
      server = await startNeonHttp({});
    });
    afterAll(async () => {
      await server?.close();
    });

    it("applies every migration once, then nothing", async () => {
      const files = readdirSync("migrations").filter((f) => f.endsWith(".sql"));
      expect(await migrateDatabase({ databaseUrl: DB_URL, fetchEndpoint: server.url })).toBe(files.length);
      expect(await migrateDatabase({ databaseUrl: DB_URL, fetchEndpoint: server.url })).toBe(0);
      neonConfig.fetchEndpoint = server.url;
      const sql = neon(DB_URL);
      const tables = await sql.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
      );
      expect(tables.map((t) => t.table_name)).toEqual([
        "agent_configs",
        "api_keys",
        "audit_chain_heads",
        "audit_logs",
        "connector_configs",
        "connector_items",
        "connector_runs",
        "knowledge_base",
        "knowledge_job_documents",
        "knowledge_jobs",
        "knowledge_settings",
        "security_events",
        "usage_budgets",
        "usage_daily",
      ]);
      const [idx] = await sql.query(
        `SELECT indexdef FROM pg_indexes WHERE indexname = 'knowledge_base_embedding_hnsw_idx'`,
      );
      expect(idx!.indexdef).toContain("USING hnsw (embedding vector_cosine_ops)");
    });

    it("maintains updated_at with a trigger", async () => {
      const sql = neon(DB_URL);
      const tenant = crypto.randomUUID();
      const [row] = await sql.query(
        `INSERT INTO connector_configs (tenant_id, connector_id, vault_path, updated_at) VALUES ($1, 'openai', 'p', now() - interval '1 day') RETURNING updated_at`,
        [tenant],
      );
      const [after] = await sql.query(
        `UPDATE connector_configs SET is_active = false WHERE tenant_id = $1 RETURNING updated_at`,
        [tenant],
      );
      expect(new Date(after!.updated_at).getTime()).toBeGreaterThan(new Date(row!.updated_at).getTime() + 3_600_000);
    });

    it("enforces one record per tenant and service", async () => {
      const sql = neon(DB_URL);
      const tenant = crypto.randomUUID();
      await sql.query(`INSERT INTO connector_configs (tenant_id, connector_id, vault_path) VALUES ($1, 'x', 'p')`, [
        tenant,
      ]);
      await expect(
        sql.query(`INSERT INTO connector_configs (tenant_id, connector_id, vault_path) VALUES ($1, 'x', 'p')`, [
          tenant,
        ]),
      ).rejects.toMatchObject({ code: "23505" });
    });
  });
});
