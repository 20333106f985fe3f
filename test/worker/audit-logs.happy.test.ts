import { describe, expect, it } from "vitest";
import { type ChainedRow, verifyRows } from "../../src/audit/chain";
import { EXPORT_COLUMNS } from "../../src/audit/export";
import { sql } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

/** A tenant with `n` audit rows (key lists), chained 1..n. */
async function tenantWithRows(n: number): Promise<string> {
  const tenant = newTenant();
  for (let i = 0; i < n; i++) await call("GET", "/vault/keys", { as: { tenant } });
  return tenant;
}

const rowAt = async (tenant: string, seq: number) =>
  (await sql().query(`SELECT * FROM audit_logs WHERE tenant_id = $1 AND seq = $2`, [tenant, seq]))[0]!;

describe("GET /audit-logs/verify", () => {
  it("re-computes an intact chain", async () => {
    const tenant = await tenantWithRows(5);
    const r = await call("GET", "/audit-logs/verify", { as: { tenant } });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      verified: true,
      checked: 5,
      last_seq: 5,
      from_seq: 1,
      to_seq: 5,
      head_seq: 5,
      first_break: null,
    });
    // The verification itself is audited (the next row of the chain).
    expect((await rowAt(tenant, 6)).action).toBe("audit.verify");
    const range = await call("GET", "/audit-logs/verify?from_seq=3&to_seq=5", { as: { tenant } });
    expect(range.json).toMatchObject({ verified: true, checked: 3, from_seq: 3, to_seq: 5 });
  });

  it("names exactly the row whose details were edited in SQL", async () => {
    const tenant = await tenantWithRows(6);
    const victim = await rowAt(tenant, 4);
    await sql().query(`UPDATE audit_logs SET details = '{"note":"nothing to see"}' WHERE id = $1`, [victim.id]);
    const r = await call("GET", "/audit-logs/verify", { as: { tenant } });
    expect(r.json).toMatchObject({
      verified: false,
      checked: 3,
      first_break: { seq: 4, id: victim.id, fault: "hash_mismatch" },
    });
  });

  it("an edited row with a forged hash is named too", async () => {
    const tenant = await tenantWithRows(4);
    const victim = await rowAt(tenant, 2);
    await sql().query(`UPDATE audit_logs SET outcome = 'denied', hash = repeat('a', 64) WHERE id = $1`, [victim.id]);
    const r = await call("GET", "/audit-logs/verify", { as: { tenant } });
    expect(r.json.first_break).toEqual({ seq: 2, id: victim.id, fault: "hash_mismatch" });
  });

  it("names a deleted row as a gap, in the middle or at the end", async () => {
    const tenant = await tenantWithRows(5);
    await sql().query(`DELETE FROM audit_logs WHERE tenant_id = $1 AND seq = 3`, [tenant]);
    const mid = await call("GET", "/audit-logs/verify", { as: { tenant } });
    expect(mid.json).toMatchObject({ verified: false, checked: 2, first_break: { seq: 3, id: null, fault: "gap" } });

    const other = await tenantWithRows(3);
    await sql().query(`DELETE FROM audit_logs WHERE tenant_id = $1 AND seq = 3`, [other]);
    const end = await call("GET", "/audit-logs/verify?to_seq=3", { as: { tenant: other } });
    expect(end.json).toMatchObject({ verified: false, first_break: { seq: 3, id: null, fault: "gap" } });
  });

  it("members are refused (403), and the refusal is audited", async () => {
    const tenant = newTenant();
    const r = await call("GET", "/audit-logs/verify", { as: { tenant, roles: ["member"] } });
    expect(r.status).toBe(403);
    expect(await rowAt(tenant, 1)).toMatchObject({ action: "audit.verify", outcome: "denied" });
  });

  it("a malformed range is a 400", async () => {
    const r = await call("GET", "/audit-logs/verify?from_seq=0", { as: { tenant: newTenant() } });
    expect(r.status).toBe(400);
    expect(r.json.code).toBe("validation_failed");
  });
});

describe("GET /audit-logs/export", () => {
  it("streams NDJSON in sequence order with the chain fields, which re-compute", async () => {
    const tenant = await tenantWithRows(7);
    const r = await call("GET", "/audit-logs/export", { as: { tenant } });
    expect(r.status).toBe(200);
    expect(r.res.headers.get("content-type")).toBe("application/x-ndjson; charset=utf-8");
    const rows = r.text
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as ChainedRow);
    expect(rows.map((x) => x.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(Object.keys(rows[0]!)).toEqual([...EXPORT_COLUMNS]);
    expect(rows.every((x) => x.tenant_id === tenant)).toBe(true);
    expect(await verifyRows(rows, { to: 7 })).toEqual({ checked: 7, last_seq: 7, first_break: null });
  });

  it("CSV on request, with a time range", async () => {
    const tenant = await tenantWithRows(3);
    const cut = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    for (let i = 0; i < 2; i++) await call("GET", "/vault/keys", { as: { tenant } });
    const r = await call("GET", `/audit-logs/export?format=csv&since=${encodeURIComponent(cut)}`, { as: { tenant } });
    expect(r.res.headers.get("content-type")).toBe("text/csv; charset=utf-8");
    const lines = r.text.trimEnd().split("\r\n");
    expect(lines[0]).toBe(EXPORT_COLUMNS.join(","));
    // seq 4 and 5 (the export call at seq 4's time is recorded after the response)
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(["4", "5"]);
    expect(lines[1]).toContain('"{""');
  });

  it("members are refused (403)", async () => {
    const r = await call("GET", "/audit-logs/export", { as: { tenant: newTenant(), roles: ["member"] } });
    expect(r.status).toBe(403);
  });
});
