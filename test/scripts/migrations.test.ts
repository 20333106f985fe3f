import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { neon, neonConfig } from "@neondatabase/serverless";
import { type AuditRecord, canonicalText } from "../../src/audit/chain";
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

    it("0019 re-groups the usage of Azure rows that named a bare model apart from OpenAI's model of that name; twice: the same", async () => {
      const sql = neon(DB_URL);
      const tenant = crypto.randomUUID();
      const use = (provider: string, model: string, cost: string): AuditRecord => ({
        id: crypto.randomUUID(),
        tenant_id: tenant,
        user_id: "u-1",
        action: "key.use",
        resource_type: "api_key",
        resource_id: provider,
        outcome: "success",
        request_id: null,
        ip_address: null,
        user_agent: null,
        details: { purpose: "chat", model, usage: { prompt: 10, completion: 5, total: 15, cost_usd: cost } },
        created_at: "2026-11-30T12:00:00.000Z",
      });
      // As rows stored before 0019 name them: an Azure agent's llm_model, bare; a /v1 call's deployment address.
      const rows = [
        use("openai", "gpt-4o-mini", "0.000004500"),
        use("azure-openai", "gpt-4o-mini", "0.0001"),
        use("azure-openai", "azure-openai/gpt-4o-mini", "0.0002"),
        use("azure-openai", "text-embedding-3-small", "0.00001"),
      ];
      await sql.query(`SELECT audit_append($1::jsonb)`, [JSON.stringify(rows.map(canonicalText))]);
      const groups = async () =>
        Object.fromEntries(
          (
            await sql.query(
              `SELECT model, requests::int, cost_usd::text FROM usage_daily WHERE tenant_id = $1 ORDER BY model`,
              [tenant],
            )
          ).map((g) => [g.model, [g.requests, g.cost_usd]]),
        );
      expect(await groups()).toEqual({
        "azure-openai/gpt-4o-mini": [1, "0.000200000"],
        "gpt-4o-mini": [2, "0.000104500"],
        "text-embedding-3-small": [1, "0.000010000"],
      });

      const statements = readFileSync("migrations/0019_usage_deployment_address.sql", "utf8")
        .split("--> statement-breakpoint")
        .map((q) => q.trim())
        .filter(Boolean);
      const regrouped = {
        "azure-openai/gpt-4o-mini": [2, "0.000300000"],
        "azure-openai/text-embedding-3-small": [1, "0.000010000"],
        "gpt-4o-mini": [1, "0.000004500"],
      };
      for (let run = 0; run < 2; run++) {
        await sql.transaction(statements.map((q) => sql.query(q)));
        expect(await groups()).toEqual(regrouped);
      }
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
