/**
 * The stand-in in front of a real Postgres (`postgresUrl`), driven by the real
 * Neon client. Runs only when NEON_HTTP_TEST_POSTGRES_URL points at a server
 * we may create a scratch schema in; skipped otherwise.
 *
 * Unlike in-memory PGlite, node-postgres really yields between statements, so
 * this is where overlapping batches would corrupt each other without the
 * stand-in's request queue.
 */
import { NeonDbError, neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNeonHttp, type NeonHttpServer } from "../../local-stack/neon-http/server.js";

const postgresUrl = process.env.NEON_HTTP_TEST_POSTGRES_URL;
const schema = `neon_http_test_${process.pid}_${Date.now()}`;

describe.skipIf(!postgresUrl)("neon-http over a real Postgres", () => {
  let server: NeonHttpServer;
  const sql = neon("postgresql://user:pass@ep-local.localtest.me/neondb");

  beforeAll(async () => {
    server = await startNeonHttp({ postgresUrl });
    neonConfig.fetchEndpoint = server.url;
    await sql.query(`CREATE SCHEMA ${schema}`);
    // One session behind the stand-in: the search_path sticks for later requests.
    await sql.query(`SET search_path TO ${schema}`);
    await sql.query("CREATE TABLE ledger (tag text PRIMARY KEY, amount numeric NOT NULL)");
  });

  afterAll(async () => {
    if (!server) return;
    await sql.query(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
    await server.close();
  });

  it("returns values as the client parses them", async () => {
    const when = new Date("2023-01-02T03:04:05.678Z");
    const rows = await sql.query("SELECT $1::int8 AS big, $2::timestamptz AS ts, $3::jsonb AS doc, $4::bool AS b", [
      "12345678901234567",
      when,
      { x: 1 },
      true,
    ]);
    expect(rows).toEqual([{ big: "12345678901234567", ts: when, doc: { x: 1 }, b: true }]);
  });

  it("reports the command tag and field descriptions", async () => {
    const result = await sql.query("INSERT INTO ledger VALUES ($1, $2), ($3, $4) RETURNING tag", ["a", "1", "b", "2"], {
      fullResults: true,
    });
    expect([result.command, result.rowCount]).toEqual(["INSERT", 2]);
    expect(result.fields[0]).toMatchObject({ name: "tag", dataTypeID: 25, columnID: 1, format: "text" });
    expect(result.fields[0]?.tableID).toBeGreaterThan(0);
  });

  it("rejects two statements with 42601 and surfaces SQLSTATEs", async () => {
    const twoStatements = await sql.query("SELECT 1; SELECT 2").catch((e: unknown) => e);
    expect(twoStatements).toBeInstanceOf(NeonDbError);
    expect((twoStatements as NeonDbError).code).toBe("42601");
    const missing = await sql.query("SELECT * FROM nope").catch((e: unknown) => e);
    expect((missing as NeonDbError).code).toBe("42P01");
  });

  it("keeps overlapping transactions apart: each rollback undoes only its own insert", async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        sql
          .transaction([
            sql`INSERT INTO ledger VALUES (${`t${i}`}, ${i})`,
            sql`SELECT pg_sleep(0.005)`,
            i % 3 === 0 ? sql`SELECT 1 / 0` : sql`SELECT 1`,
          ])
          .then(
            () => "ok",
            (e: unknown) => (e as NeonDbError).code,
          ),
      ),
    );
    expect(outcomes.filter((o) => o === "22012")).toHaveLength(10);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(20);
    const rows = await sql`SELECT count(*)::int AS n FROM ledger WHERE tag LIKE 't%'`;
    expect(rows).toEqual([{ n: 20 }]);
  });

  it("runs a read-only transaction at the requested isolation level", async () => {
    const [[row]] = (await sql.transaction([sql`SELECT current_setting('transaction_isolation') AS iso`], {
      isolationLevel: "Serializable",
      readOnly: true,
    })) as [Record<string, unknown>[]];
    expect(row).toEqual({ iso: "serializable" });
    const write = await sql
      .transaction([sql`INSERT INTO ledger VALUES ('ro', 0)`], { readOnly: true })
      .catch((e: unknown) => e);
    expect((write as NeonDbError).code).toBe("25006");
  });
});
