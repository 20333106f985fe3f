/**
 * The stand-in in front of a real Postgres (`postgresUrl`), driven by the real
 * Neon client. Runs only when NEON_HTTP_TEST_POSTGRES_URL points at a server
 * we may create a scratch schema in; skipped otherwise.
 *
 * Here the stand-in is pooled like the proxy: each request has a connection of
 * its own and requests run side by side, so concurrent transactions meet as
 * on Neon — serialization failures (40001), deadlocks (40P01) and unique
 * violations between concurrent inserts (23505) all happen.
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
    const admin = await startNeonHttp({ postgresUrl });
    neonConfig.fetchEndpoint = admin.url;
    await sql.query(`CREATE SCHEMA ${schema}`);
    await admin.close();
    // Pooled sessions share no state: every connection gets the scratch schema from the URL.
    const url = new URL(postgresUrl!);
    url.searchParams.set("options", `-c search_path=${schema}`);
    server = await startNeonHttp({ postgresUrl: url.toString() });
    neonConfig.fetchEndpoint = server.url;
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

  it("runs requests side by side on separate connections", async () => {
    const pids = await Promise.all(
      Array.from({ length: 4 }, () =>
        sql.transaction([sql`SELECT pg_sleep(0.2)`, sql`SELECT pg_backend_pid() AS pid`]).then((r) => r[1]?.[0]?.pid),
      ),
    );
    expect(new Set(pids).size).toBeGreaterThan(1);
  });

  it("concurrent inserts of one key: one wins, the other gets 23505", async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 2 }, () =>
        sql.transaction([sql`INSERT INTO ledger VALUES ('dup', 1)`, sql`SELECT pg_sleep(0.2)`]).then(
          () => "ok",
          (e: unknown) => (e as NeonDbError).code,
        ),
      ),
    );
    expect(outcomes.sort()).toEqual(["23505", "ok"]);
  });

  it("two batches locking rows in opposite order: one is a deadlock victim (40P01)", async () => {
    await sql`INSERT INTO ledger VALUES ('lock-a', 0), ('lock-b', 0)`;
    const lockBoth = (first: string, second: string) =>
      sql
        .transaction([
          sql`UPDATE ledger SET amount = amount + 1 WHERE tag = ${first}`,
          sql`SELECT pg_sleep(0.3)`,
          sql`UPDATE ledger SET amount = amount + 1 WHERE tag = ${second}`,
        ])
        .then(
          () => "ok",
          (e: unknown) => (e as NeonDbError).code,
        );
    const outcomes = await Promise.all([lockBoth("lock-a", "lock-b"), lockBoth("lock-b", "lock-a")]);
    expect(outcomes.sort()).toEqual(["40P01", "ok"]);
  });

  it("serializable batches with a write skew: one fails with 40001", async () => {
    await sql`INSERT INTO ledger VALUES ('skew-x', 1), ('skew-y', 1)`;
    const skew = (write: string) =>
      sql
        .transaction(
          [
            sql`SELECT sum(amount) FROM ledger WHERE tag IN ('skew-x', 'skew-y')`,
            sql`SELECT pg_sleep(0.3)`,
            sql`UPDATE ledger SET amount = amount - 1 WHERE tag = ${write}`,
          ],
          { isolationLevel: "Serializable" },
        )
        .then(
          () => "ok",
          (e: unknown) => (e as NeonDbError).code,
        );
    const outcomes = await Promise.all([skew("skew-x"), skew("skew-y")]);
    expect(outcomes.sort()).toEqual(["40001", "ok"]);
  });
});
