import { describe, expect, it } from "vitest";
import { encodeCursor } from "../../src/lib/cursor";
import { auditRows } from "./support/stack";
import { newTenant } from "./support/tokens";
import { call } from "./support/worker";

const ID = "0190f1a2-7b3c-7d4e-8f50-123456789abc";
const at = (time: string, ...rest: string[]) => encodeCursor([time, ...rest]);

describe("GET /audit-logs: cursors", () => {
  it.each([
    ["an all-zero id", at("2026-01-01T00:00:00.000Z", "000000000000000000000000000000000000")],
    ["the nil uuid", at("2026-01-01T00:00:00.000Z", "00000000-0000-0000-0000-000000000000")],
    ["an id of dashes", at("2026-01-01T00:00:00.000Z", "-".repeat(36))],
    ["a date beyond Postgres", at("+275760-09-13T00:00:00.000Z", ID)],
    ["a six-digit year", at("+010000-01-01T00:00:00.000Z", ID)],
    ["a date that is not a day", at("2026-02-31T00:00:00.000Z", ID)],
    ["a date without time", at("2026-01-01", ID)],
    ["a third part", at("2026-01-01T00:00:00.000Z", ID, "x")],
    ["not base64", "%%%"],
    ["nothing decodable", btoa("garbage")],
    ["the old format", btoa(`2026-01-01T00:00:00.000Z|${ID}`).replace(/=+$/, "")],
  ])("400 validation_failed for %s", async (_name, cursor) => {
    const tenant = newTenant();
    const r = await call("GET", `/audit-logs?cursor=${encodeURIComponent(cursor)}`, { as: { tenant } });
    expect(r.status).toBe(400);
    expect(r.res.headers.get("content-type")).toBe("application/problem+json");
    expect(r.json).toMatchObject({ code: "validation_failed", errors: [{ path: "cursor" }] });
    // The refused read is audited with its code.
    const rows = await auditRows(tenant);
    expect(rows.map((x) => [x.action, x.outcome, x.details.error])).toEqual([
      ["audit.list", "error", "validation_failed"],
    ]);
  });

  it("a cursor the API issued still pages", async () => {
    const tenant = newTenant();
    for (let i = 0; i < 3; i++) await call("GET", "/vault/keys", { as: { tenant } });
    const first = await call("GET", "/audit-logs?limit=2", { as: { tenant } });
    const next = await call("GET", `/audit-logs?limit=2&cursor=${first.json.next_cursor}`, { as: { tenant } });
    expect(next.status).toBe(200);
    expect(next.json.items.map((r: any) => r.action)).toEqual(["key.list"]);
  });
});

describe("GET /audit-logs: reads are audited", () => {
  it("an admin's read leaves an audit.list row; a member's refusal leaves a denied one", async () => {
    const tenant = newTenant();
    expect((await call("GET", "/audit-logs", { as: { tenant } })).status).toBe(200);
    expect((await call("GET", "/audit-logs", { as: { tenant, roles: ["member"] } })).status).toBe(403);
    const rows = await auditRows(tenant);
    expect(rows.map((r) => [r.action, r.resource_type, r.outcome, r.details.error ?? null])).toEqual([
      ["audit.list", "audit_log", "success", null],
      ["audit.list", "audit_log", "denied", "forbidden"],
    ]);
  });
});
