/**
 * The stand-in driven by the real `@neondatabase/serverless` client: if the
 * client cannot tell it from Neon, values, errors and transactions come back
 * exactly as in production. (drizzle's driver is tested in its own file because
 * creating it changes the client's timestamp parsers process-wide.)
 */
import { NeonDbError, neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNeonHttp, type NeonHttpServer } from "../../local-stack/neon-http/server.js";

const CONNECTION_STRING = "postgresql://user:pass@ep-local.localtest.me/neondb";

let server: NeonHttpServer;
const sql = neon(CONNECTION_STRING);

beforeAll(async () => {
  server = await startNeonHttp();
  neonConfig.fetchEndpoint = server.url;
  await sql.query("CREATE EXTENSION IF NOT EXISTS vector");
  await sql.query("CREATE TABLE accounts (id serial PRIMARY KEY, email text UNIQUE NOT NULL, balance numeric(12,2))");
  await sql.query("CREATE TABLE items (id int PRIMARY KEY, embedding vector(3) NOT NULL)");
});

afterAll(async () => {
  await server?.close();
});

/** Runs `fn`, expecting it to reject with a NeonDbError, and returns that error. */
async function neonError(fn: () => Promise<unknown>): Promise<NeonDbError> {
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(NeonDbError);
  return err as NeonDbError;
}

describe("values come back typed as the client parses Neon's raw text", () => {
  it("parses params and results by type OID", async () => {
    const when = new Date("2024-05-06T07:08:09.123Z");
    const rows = await sql.query(
      "SELECT $1::int8 AS big, $2::numeric AS num, $3::timestamptz AS ts, $4::json AS doc, $5::boolean AS yes, $6::text AS nothing, $7::int4 AS small, $8::float8 AS ratio",
      ["9007199254740993", "12.50", when, { a: [1, "two"] }, false, null, 7, 0.25],
    );
    expect(rows).toEqual([
      {
        big: "9007199254740993",
        num: "12.50",
        ts: when,
        doc: { a: [1, "two"] },
        yes: false,
        nothing: null,
        small: 7,
        ratio: 0.25,
      },
    ]);
    expect(rows[0]?.ts).toBeInstanceOf(Date);
  });

  it("binds tagged-template values and arrays", async () => {
    const rows = await sql`SELECT ${"o'hara"} AS name, ${[1, 2, 3]}::int[] AS nums, ${true}::boolean AS flag`;
    expect(rows).toEqual([{ name: "o'hara", nums: [1, 2, 3], flag: true }]);
  });

  it("returns arrays in arrayMode and the command tag with fullResults", async () => {
    const result = await sql.query(
      "INSERT INTO accounts (email, balance) VALUES ($1, $2), ($3, $4) RETURNING id, email, balance",
      ["a@example.com", "10.5", "b@example.com", null],
      { arrayMode: true, fullResults: true },
    );
    expect(result.command).toBe("INSERT");
    expect(result.rowCount).toBe(2);
    expect(result.rows).toEqual([
      [1, "a@example.com", "10.50"],
      [2, "b@example.com", null],
    ]);
    expect(result.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
      ["id", 23],
      ["email", 25],
      ["balance", 1700],
    ]);
  });

  it("reports rowCount null for a statement without a count", async () => {
    const result = await sql.query("CREATE TABLE scratch (x int)", [], { fullResults: true });
    expect(result.command).toBe("CREATE");
    expect(result.rowCount).toBeNull();
    expect(result.rows).toEqual([]);
    expect(result.fields).toEqual([]);
  });
});

describe("errors surface as NeonDbError with the SQLSTATE", () => {
  it("unique violation: 23505 with detail and constraint", async () => {
    await sql.query("INSERT INTO accounts (email) VALUES ('dup@example.com')");
    const err = await neonError(() => sql.query("INSERT INTO accounts (email) VALUES ('dup@example.com')"));
    expect(err.code).toBe("23505");
    expect(err.constraint).toBe("accounts_email_key");
    expect(err.table).toBe("accounts");
    expect(err.detail).toBe("Key (email)=(dup@example.com) already exists.");
    expect(err.severity).toBe("ERROR");
  });

  it("undefined table: 42P01 with the position as a string", async () => {
    const err = await neonError(() => sql.query("SELECT * FROM no_such_table"));
    expect(err.code).toBe("42P01");
    expect(err.message).toBe('relation "no_such_table" does not exist');
    expect(err.position).toBe("15");
    expect(err.hint).toBeUndefined();
  });

  it("rejects two statements in one query with 42601 and runs neither", async () => {
    const err = await neonError(() => sql.query("INSERT INTO accounts (email) VALUES ('two@example.com'); SELECT 1"));
    expect(err.code).toBe("42601");
    expect(err.message).toBe("cannot insert multiple commands into a prepared statement");
    expect(await sql`SELECT count(*)::int AS n FROM accounts WHERE email = 'two@example.com'`).toEqual([{ n: 0 }]);
  });
});

describe("transactions", () => {
  it("commits every query of a successful transaction and returns each result", async () => {
    const [inserted, counted] = await sql.transaction([
      sql`INSERT INTO accounts (email) VALUES ('tx1@example.com') RETURNING email`,
      sql`SELECT count(*)::int AS n FROM accounts WHERE email LIKE 'tx%'`,
    ]);
    expect(inserted).toEqual([{ email: "tx1@example.com" }]);
    expect(counted).toEqual([{ n: 1 }]);
  });

  it("rolls back the earlier statements when one fails", async () => {
    const err = await neonError(() =>
      sql.transaction([
        sql`INSERT INTO accounts (email) VALUES ('rolled-back@example.com')`,
        sql`INSERT INTO accounts (email) VALUES ('a@example.com')`,
      ]),
    );
    expect(err.code).toBe("23505");
    expect(await sql`SELECT email FROM accounts WHERE email = 'rolled-back@example.com'`).toEqual([]);
  });

  it("applies isolation level and read-only", async () => {
    const [[settings]] = (await sql.transaction(
      [sql`SELECT current_setting('transaction_isolation') AS iso, current_setting('transaction_read_only') AS ro`],
      { isolationLevel: "Serializable", readOnly: true },
    )) as [Record<string, unknown>[]];
    expect(settings).toEqual({ iso: "serializable", ro: "on" });
  });

  it("fails a write inside a read-only transaction with 25006", async () => {
    const err = await neonError(() =>
      sql.transaction([sql`INSERT INTO accounts (email) VALUES ('ro@example.com')`], {
        isolationLevel: "RepeatableRead",
        readOnly: true,
      }),
    );
    expect(err.code).toBe("25006");
    expect(await sql`SELECT email FROM accounts WHERE email = 'ro@example.com'`).toEqual([]);
  });

  it("serializes concurrent transactions so a rollback never undoes another's work", async () => {
    await sql`CREATE TABLE ledger (tag text PRIMARY KEY)`;
    const runs = Array.from({ length: 20 }, (_, i) =>
      sql
        .transaction([
          sql`INSERT INTO ledger (tag) VALUES (${`t${i}`})`,
          i % 2 === 0 ? sql`SELECT 1` : sql`SELECT 1 / 0`,
        ])
        .then(
          () => "ok",
          (e: unknown) => (e as NeonDbError).code,
        ),
    );
    const outcomes = await Promise.all(runs);
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(10);
    expect(outcomes.filter((o) => o === "22012")).toHaveLength(10);
    const rows = await sql`SELECT tag FROM ledger ORDER BY tag`;
    expect(rows.map((r) => r.tag).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `t${i * 2}`).sort());
  });
});

describe("pgvector", () => {
  it("round-trips a vector(3) value and orders by cosine distance", async () => {
    await sql.transaction([
      sql`INSERT INTO items (id, embedding) VALUES (1, ${"[1,0,0]"})`,
      sql`INSERT INTO items (id, embedding) VALUES (2, ${"[0,1,0]"})`,
      sql`INSERT INTO items (id, embedding) VALUES (3, ${"[0.7,0.7,0]"})`,
    ]);
    // vector has no built-in parser: the client hands back Postgres's text.
    expect(await sql`SELECT embedding FROM items WHERE id = 3`).toEqual([{ embedding: "[0.7,0.7,0]" }]);

    const nearest = await sql.query(
      "SELECT id, round((embedding <=> $1::vector)::numeric, 4)::float8 AS distance FROM items ORDER BY embedding <=> $1::vector",
      ["[1,0.1,0]"],
    );
    expect(nearest.map((r) => r.id)).toEqual([1, 3, 2]);
    expect(nearest[0]?.distance).toBeCloseTo(0.005, 3);
  });
});
