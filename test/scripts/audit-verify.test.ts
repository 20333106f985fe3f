import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuditRecord, canonicalText, type ChainedRow } from "../../src/audit/chain";
import { EXPORT_COLUMNS, exportLine } from "../../src/audit/export";
import { startNeonHttp, type NeonHttpServer } from "../../local-stack/neon-http/server";
import { migrateDatabase } from "../../scripts/migrate";
import { verifyFromDatabase, verifyFromFile } from "../../scripts/audit-verify";

const DB_URL = "postgresql://u:p@ep-test.localtest.me/brain";
const run = promisify(execFile);

function record(tenant: string, i: number): AuditRecord {
  return {
    id: crypto.randomUUID(),
    tenant_id: tenant,
    user_id: "auditor-test",
    action: "key.read",
    resource_type: "api_key",
    resource_id: "openai",
    outcome: "success",
    request_id: `req-${i}`,
    ip_address: "198.51.100.7",
    user_agent: 'curl/8, "quoted"',
    details: { vault_version: i, note: "line\nbreak, comma" },
    created_at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
  };
}

describe("npm run audit:verify", () => {
  let server: NeonHttpServer;
  let sql: ReturnType<typeof neon>;
  const tenant = crypto.randomUUID();
  const dir = mkdtempSync(join(tmpdir(), "audit-verify-"));

  beforeAll(async () => {
    server = await startNeonHttp({ port: 0 });
    await migrateDatabase({ databaseUrl: DB_URL, fetchEndpoint: server.url });
    neonConfig.fetchEndpoint = server.url;
    sql = neon(DB_URL);
    // Rows appended exactly as the Worker's consumer does.
    const texts = Array.from({ length: 12 }, (_, i) => canonicalText(record(tenant, i)));
    await sql.query(`SELECT audit_append($1::jsonb)`, [JSON.stringify(texts)]);
  });
  afterAll(async () => {
    await server?.close();
  });

  const cli = async (args: string[]) => {
    try {
      const { stdout } = await run("npx", ["tsx", "scripts/audit-verify.ts", ...args], {
        env: { ...process.env, DATABASE_URL: DB_URL, NEON_FETCH_ENDPOINT: server.url },
      });
      return { code: 0, report: JSON.parse(stdout) };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, report: e.stdout ? JSON.parse(e.stdout) : null, stderr: e.stderr };
    }
  };

  it("verifies a chain straight from DATABASE_URL (exit 0), and names an edited row (exit 1)", async () => {
    const ok = await cli(["--tenant", tenant]);
    expect(ok).toMatchObject({ code: 0, report: { verified: true, checked: 12, head_seq: 12, first_break: null } });

    const [victim] = (await sql.query(`SELECT id FROM audit_logs WHERE tenant_id = $1 AND seq = 7`, [tenant])) as any[];
    await sql.query(`UPDATE audit_logs SET user_id = 'someone-else' WHERE id = $1`, [victim.id]);
    const bad = await cli(["--tenant", tenant]);
    expect(bad).toMatchObject({
      code: 1,
      report: { verified: false, checked: 6, first_break: { seq: 7, id: victim.id, fault: "hash_mismatch" } },
    });
    await sql.query(`UPDATE audit_logs SET user_id = 'auditor-test' WHERE id = $1`, [victim.id]);
  });

  it("a deleted row is a gap; a range is checked on its own", async () => {
    const other = crypto.randomUUID();
    const texts = Array.from({ length: 5 }, (_, i) => canonicalText(record(other, i)));
    await sql.query(`SELECT audit_append($1::jsonb)`, [JSON.stringify(texts)]);
    await sql.query(`DELETE FROM audit_logs WHERE tenant_id = $1 AND seq = 5`, [other]);
    const report = await verifyFromDatabase({ databaseUrl: DB_URL, fetchEndpoint: server.url, tenant: other });
    expect(report.first_break).toEqual({ seq: 5, id: null, fault: "gap" });
    const range = await verifyFromDatabase({ databaseUrl: DB_URL, fetchEndpoint: server.url, tenant: other, toSeq: 4 });
    expect(range).toMatchObject({ checked: 4, first_break: null });
  });

  it("verifies an export file (NDJSON and CSV), and names a row edited in the file", async () => {
    const rows = (await sql.query(`SELECT * FROM audit_logs WHERE tenant_id = $1 ORDER BY seq`, [tenant])) as any[];
    const chained: ChainedRow[] = rows.map((r) => ({
      ...r,
      seq: Number(r.seq),
      created_at: new Date(r.created_at).toISOString(),
    }));
    for (const format of ["ndjson", "csv"] as const) {
      const file = join(dir, `audit.${format}`);
      const body =
        (format === "csv" ? `${EXPORT_COLUMNS.join(",")}\r\n` : "") +
        chained.map((r) => exportLine(r, format)).join("");
      writeFileSync(file, body);
      expect(await verifyFromFile(file)).toMatchObject({ checked: 12, first_break: null });
      writeFileSync(
        file,
        body.replace('"vault_version":3', '"vault_version":30').replace('""vault_version"":3', '""vault_version"":30'),
      );
      expect(await verifyFromFile(file)).toMatchObject({ checked: 3, first_break: { seq: 4, fault: "hash_mismatch" } });
    }
  });

  it("refuses a missing tenant with usage (exit 2)", async () => {
    const r = await cli(["--tenant", "not-a-uuid"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("usage: npm run audit:verify");
  });
});
