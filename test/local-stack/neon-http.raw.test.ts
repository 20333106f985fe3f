/**
 * The stand-in's wire format checked byte by byte with plain `fetch`: status
 * codes, headers, key order, raw text values, error bodies and limits, as
 * Neon's proxy writes them (proxy/src/serverless/sql_over_http.rs).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNeonHttp, type NeonHttpServer } from "../../local-stack/neon-http/server.js";

const CLIENT_HEADERS = {
  "Neon-Connection-String": "postgresql://user:pass@ep-local.localtest.me/neondb",
  "Neon-Raw-Text-Output": "true",
  "Neon-Array-Mode": "true",
};

const ERROR_KEYS = [
  "message",
  "code",
  "detail",
  "hint",
  "position",
  "internalPosition",
  "internalQuery",
  "severity",
  "where",
  "table",
  "column",
  "schema",
  "dataType",
  "constraint",
  "file",
  "line",
  "routine",
];

let server: NeonHttpServer;

beforeAll(async () => {
  server = await startNeonHttp();
  await post({ query: "CREATE TABLE notes (id int4 PRIMARY KEY, body text NOT NULL)" });
});

afterAll(async () => {
  await server?.close();
});

function post(body: unknown, headers: Record<string, string> = CLIENT_HEADERS): Promise<Response> {
  return fetch(server.url, {
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

describe("success responses", () => {
  it("returns raw text values, full field descriptions and keys in the proxy's order", async () => {
    const res = await post({
      query: "SELECT $1::int8 AS big, true AS flag, '{\"a\":1}'::json AS doc, NULL::text AS nothing, 1.5::float8 AS f",
      params: ["42"],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("neon-request-id")).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );

    const text = await res.text();
    const body = JSON.parse(text) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["rowAsArray", "fields", "rows", "command", "rowCount"]);
    expect(body.rows).toEqual([["42", "t", '{"a":1}', null, "1.5"]]);
    expect(body.rowAsArray).toBe(true);
    expect(body.command).toBe("SELECT");
    expect(body.rowCount).toBe(1);
    const fields = body.fields as Record<string, unknown>[];
    expect(fields.map((f) => Object.keys(f))).toEqual(
      Array(5).fill(["name", "dataTypeID", "tableID", "columnID", "dataTypeSize", "dataTypeModifier", "format"]),
    );
    expect(fields[0]).toEqual({
      name: "big",
      dataTypeID: 20,
      tableID: 0,
      columnID: 0,
      dataTypeSize: 8,
      dataTypeModifier: -1,
      format: "text",
    });
  });

  it("fills tableID, columnID and the type modifier for table columns", async () => {
    await post({ query: "CREATE TABLE typed (code varchar(10), amount numeric(8,2))" });
    const body = await json(await post({ query: "SELECT code, amount FROM typed" }));
    const [code, amount] = body.fields as Record<string, number>[];
    expect(code?.tableID).toBeGreaterThan(0);
    expect(code?.tableID).toBe(amount?.tableID);
    expect([code?.columnID, amount?.columnID]).toEqual([1, 2]);
    expect(code?.dataTypeModifier).toBe(14); // varchar(10): 10 + 4 header bytes
    expect(amount?.dataTypeModifier).toBe(((8 << 16) | 2) + 4);
    expect(body.rows).toEqual([]);
    expect(body.rowCount).toBe(0);
  });

  it("parses the command tag: INSERT's count, none for CREATE", async () => {
    const insert = await json(await post({ query: "INSERT INTO notes VALUES (1, 'one'), (2, 'two'), (3, 'three')" }));
    expect(insert).toEqual({ rowAsArray: true, fields: [], rows: [], command: "INSERT", rowCount: 3 });
    const update = await json(await post({ query: "UPDATE notes SET body = upper(body) WHERE id > $1", params: [1] }));
    expect([update.command, update.rowCount]).toEqual(["UPDATE", 2]);
    const create = await json(await post({ query: "CREATE INDEX notes_body ON notes (body)" }));
    expect([create.command, create.rowCount]).toEqual(["CREATE", null]);
  });

  it("converts JSON params to Postgres text like the proxy (numbers, booleans, objects, arrays)", async () => {
    const body = await json(
      await post({
        query: "SELECT $1::int4, $2::bool, $3::jsonb, $4::text[], $5::int4[]",
        params: [
          7,
          true,
          { k: "v" },
          ["a b", 'q"uote', null],
          [
            [1, 2],
            [3, 4],
          ],
        ],
      }),
    );
    expect(body.rows).toEqual([["7", "t", '{"k": "v"}', '{"a b","q\\"uote",NULL}', "{{1,2},{3,4}}"]]);
  });

  it("returns objects keyed by column name when array mode is off", async () => {
    const { "Neon-Array-Mode": _, ...noArrayMode } = CLIENT_HEADERS;
    const body = await json(await post({ query: "SELECT 1 AS a, 'x' AS b" }, noArrayMode));
    expect(body.rowAsArray).toBe(false);
    expect(body.rows).toEqual([{ a: "1", b: "x" }]);

    // The body's arrayMode wins over the header, per query.
    const batch = await json(
      await post({ queries: [{ query: "SELECT 1 AS a", arrayMode: false }, { query: "SELECT 2 AS a" }] }),
    );
    const [first, second] = batch.results as Record<string, unknown>[];
    expect([first?.rowAsArray, first?.rows]).toEqual([false, [{ a: "1" }]]);
    expect([second?.rowAsArray, second?.rows]).toEqual([true, [["2"]]]);
  });

  it("converts values to JSON when raw text output is off", async () => {
    const { "Neon-Raw-Text-Output": _, ...parsed } = CLIENT_HEADERS;
    const body = await json(
      await post(
        {
          query:
            "SELECT 5::int4, 't'::bool, '{\"a\":[1]}'::jsonb, 2.5::float8, 'NaN'::float8, 9::int8, ARRAY[1,NULL,3]::int4[], ARRAY['x','y z']",
        },
        parsed,
      ),
    );
    expect(body.rows).toEqual([[5, true, { a: [1] }, 2.5, "NaN", "9", [1, null, 3], ["x", "y z"]]]);
  });

  it("answers CORS preflight like the proxy", async () => {
    const res = await fetch(server.url, { method: "OPTIONS" });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("allow")).toBe("OPTIONS, POST");
    expect(res.headers.get("access-control-allow-headers")).toContain("Neon-Connection-String");
  });
});

describe("batches", () => {
  it("runs queries in one transaction and echoes the batch headers it applied", async () => {
    const res = await post(
      {
        queries: [
          { query: "SELECT current_setting('transaction_isolation')" },
          { query: "SELECT current_setting('transaction_read_only')" },
        ],
      },
      {
        ...CLIENT_HEADERS,
        "Neon-Batch-Isolation-Level": "RepeatableRead",
        "Neon-Batch-Read-Only": "true",
        "Neon-Batch-Deferrable": "true",
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("neon-batch-isolation-level")).toBe("RepeatableRead");
    expect(res.headers.get("neon-batch-read-only")).toBe("true");
    expect(res.headers.get("neon-batch-deferrable")).toBe("true");
    const body = await json(res);
    expect(Object.keys(body)).toEqual(["results"]);
    expect((body.results as { rows: unknown }[]).map((r) => r.rows)).toEqual([[["repeatable read"]], [["on"]]]);
  });

  it("does not echo flags that are not exactly true, nor headers on single queries", async () => {
    const batch = await post(
      { queries: [{ query: "SELECT 1" }] },
      { ...CLIENT_HEADERS, "Neon-Batch-Read-Only": "yes" },
    );
    expect(batch.status).toBe(200);
    expect(batch.headers.get("neon-batch-read-only")).toBeNull();
    const single = await post(
      { query: "SELECT 1" },
      { ...CLIENT_HEADERS, "Neon-Batch-Isolation-Level": "Serializable" },
    );
    expect(single.status).toBe(200);
    expect(single.headers.get("neon-batch-isolation-level")).toBeNull();
  });

  it("rolls back on the first failure and answers with that error alone", async () => {
    const res = await post({
      queries: [
        { query: "INSERT INTO notes VALUES (10, 'kept?')" },
        { query: "INSERT INTO notes VALUES (1, 'duplicate')" },
        { query: "SELECT * FROM not_reached" },
      ],
    });
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(body.code).toBe("23505");
    expect(body.constraint).toBe("notes_pkey");
    const after = await json(await post({ query: "SELECT count(*) FROM notes WHERE id = 10" }));
    expect(after.rows).toEqual([["0"]]);
  });

  it("rejects an invalid isolation level with 400 before running anything", async () => {
    const res = await post(
      { queries: [{ query: "INSERT INTO notes VALUES (20, 'never')" }] },
      { ...CLIENT_HEADERS, "Neon-Batch-Isolation-Level": "Chaos" },
    );
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(Object.keys(body)).toEqual(ERROR_KEYS);
    expect(body).toMatchObject({ message: "invalid isolation level", code: "", severity: "", detail: null });
    const after = await json(await post({ query: "SELECT count(*) FROM notes WHERE id = 20" }));
    expect(after.rows).toEqual([["0"]]);
  });

  it("does not leave a transaction open across requests", async () => {
    const begin = await post({ query: "BEGIN ISOLATION LEVEL SERIALIZABLE" });
    expect(begin.status).toBe(200);
    const body = await json(await post({ query: "SELECT current_setting('transaction_isolation')" }));
    expect(body.rows).toEqual([["read committed"]]);
  });
});

describe("errors", () => {
  it("answers a Postgres error with 400 and all 17 keys in order", async () => {
    const res = await post({ query: "SELECT * FROM missing_table" });
    expect(res.status).toBe(400);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("neon-request-id")).toBeTruthy();
    const body = await json(res);
    expect(Object.keys(body)).toEqual(ERROR_KEYS);
    expect(body).toMatchObject({
      message: 'relation "missing_table" does not exist',
      code: "42P01",
      position: "15",
      severity: "ERROR",
      detail: null,
      hint: null,
      internalPosition: null,
      internalQuery: null,
      where: null,
      table: null,
    });
    expect(body.line).toMatch(/^\d+$/);
    expect(typeof body.file).toBe("string");
    expect(typeof body.routine).toBe("string");
  });

  it("rejects two statements in one query with 42601", async () => {
    const body = await json(await post({ query: "SELECT 1; SELECT 2" }));
    expect(body.code).toBe("42601");
    expect(body.message).toBe("cannot insert multiple commands into a prepared statement");
  });

  it("answers bad JSON with 400, code and severity empty", async () => {
    const res = await post("{not json");
    expect(res.status).toBe(400);
    const body = await json(res);
    expect(Object.keys(body)).toEqual(ERROR_KEYS);
    expect(String(body.message)).toMatch(/^could not parse the HTTP request body: /);
    expect([body.code, body.severity, body.position, body.line]).toEqual(["", "", null, null]);
  });

  it("answers a body that is neither a query nor a batch with 400", async () => {
    const body = await json(await post({ sql: "SELECT 1" }));
    expect(body.message).toBe(
      "could not parse the HTTP request body: data did not match any variant of untagged enum Payload",
    );
  });

  it("requires the connection string header", async () => {
    const res = await post({ query: "SELECT 1" }, { "Neon-Raw-Text-Output": "true" });
    expect(res.status).toBe(400);
    expect((await json(res)).message).toBe("invalid header: neon-connection-string");
  });

  it("answers other paths and methods with the proxy's 400", async () => {
    const res = await fetch(server.url.replace(/\/sql$/, "/other"), { method: "POST", body: "{}" });
    expect(res.status).toBe(400);
    expect(await res.json()).toBe("query is not supported");
  });

  it("answers a body over 10 MiB with 413", async () => {
    const res = await post({ query: "SELECT $1", params: ["x".repeat(10 * 1024 * 1024)] });
    expect(res.status).toBe(413);
    const body = await json(res);
    expect(Object.keys(body)).toEqual(ERROR_KEYS);
    expect(body.message).toBe("request is too large (max is 10485760 bytes)");
  });

  it("answers rows over 10 MiB with 507, which the client reports as a server error", async () => {
    const res = await post({ query: "SELECT repeat('x', 1048576) FROM generate_series(1, 11)" });
    expect(res.status).toBe(507);
    expect((await json(res)).message).toBe("response is too large (max is 10485760 bytes)");
    // The next request still works: the queue and the session are intact.
    expect((await post({ query: "SELECT 1" })).status).toBe(200);
  });
});
