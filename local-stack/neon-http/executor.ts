/**
 * Runs a parsed payload on one session with the proxy's semantics: a single
 * query on its own, a batch inside START TRANSACTION … COMMIT that is rolled
 * back on the first failure.
 */
import type { RawResult, SqlSession } from "./backend.js";
import { startTransactionSql, type Payload, type QueryData, type RequestOptions } from "./protocol.js";
import { ResponseWriter, writeResult, type ElementTypeOf } from "./result-json.js";

export class Executor {
  /** Array OID → element OID, or null for "not an array"; fetched once per OID. */
  readonly #elementTypes = new Map<number, number | null>();

  /** Executes the payload on `session` and returns the JSON body of a 200 answer. */
  async execute(session: SqlSession, payload: Payload, opts: RequestOptions): Promise<string> {
    try {
      return payload.kind === "single"
        ? await this.#single(session, payload.query, opts)
        : await this.#batch(session, payload.queries, opts);
    } finally {
      // The proxy drops a connection left inside a transaction (`check_idle`),
      // so the next request starts clean; PGlite has only one session, so
      // roll it back instead.
      if (session.inTransaction()) await session.query("ROLLBACK", []).catch(() => undefined);
    }
  }

  async #single(session: SqlSession, q: QueryData, opts: RequestOptions): Promise<string> {
    const out = new ResponseWriter();
    await this.#run(session, out, q, opts);
    return out.toString();
  }

  async #batch(session: SqlSession, queries: QueryData[], opts: RequestOptions): Promise<string> {
    await session.query(startTransactionSql(opts), []);
    const out = new ResponseWriter();
    try {
      out.write(`{"results":[`);
      for (const [i, q] of queries.entries()) {
        if (i > 0) out.write(",");
        await this.#run(session, out, q, opts);
      }
      out.write("]}");
    } catch (err) {
      await session.query("ROLLBACK", []).catch(() => undefined);
      throw err;
    }
    // A failing COMMIT (e.g. a serialization failure) is the request's error.
    await session.query("COMMIT", []);
    return out.toString();
  }

  async #run(session: SqlSession, out: ResponseWriter, q: QueryData, opts: RequestOptions): Promise<void> {
    const result = await session.query(q.query, q.params);
    const elementTypeOf = opts.rawOutput ? () => undefined : await this.#elementTypesFor(session, result);
    writeResult(out, result, {
      arrayMode: q.arrayMode ?? opts.defaultArrayMode,
      rawOutput: opts.rawOutput,
      elementTypeOf,
    });
  }

  /** Only needed without raw text output, where array values become JSON lists. */
  async #elementTypesFor(session: SqlSession, result: RawResult): Promise<ElementTypeOf> {
    for (const { dataTypeID } of result.fields) {
      if (this.#elementTypes.has(dataTypeID)) continue;
      const found = await session.query(
        "SELECT typelem::int4 FROM pg_catalog.pg_type WHERE oid = $1::oid AND typcategory = 'A' AND typelem <> 0",
        [String(dataTypeID)],
      );
      const elem = found.rows[0]?.[0];
      this.#elementTypes.set(dataTypeID, elem ? Number(elem) : null);
    }
    return (oid) => this.#elementTypes.get(oid) ?? undefined;
  }
}
