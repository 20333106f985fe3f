/**
 * Runs a parsed payload against a backend with the proxy's semantics: a
 * single query on its own, a batch inside START TRANSACTION … COMMIT that is
 * rolled back on the first failure. Callers serialize calls (see server.ts).
 */
import type { RawResult, SqlBackend } from "./backend.js";
import { startTransactionSql, type Payload, type QueryData, type RequestOptions } from "./protocol.js";
import { ResponseWriter, writeResult, type ElementTypeOf } from "./result-json.js";

export class Executor {
  /** Array OID → element OID, or null for "not an array"; fetched once per OID. */
  readonly #elementTypes = new Map<number, number | null>();

  constructor(private readonly backend: SqlBackend) {}

  /** Executes the payload and returns the JSON body of a 200 answer. */
  async execute(payload: Payload, opts: RequestOptions): Promise<string> {
    try {
      return payload.kind === "single"
        ? await this.#single(payload.query, opts)
        : await this.#batch(payload.queries, opts);
    } finally {
      // The proxy drops a connection left inside a transaction (`check_idle`),
      // so the next request starts clean; PGlite has only one session, so
      // roll it back instead.
      if (this.backend.inTransaction()) await this.backend.query("ROLLBACK", []).catch(() => undefined);
    }
  }

  async #single(q: QueryData, opts: RequestOptions): Promise<string> {
    const out = new ResponseWriter();
    await this.#run(out, q, opts);
    return out.toString();
  }

  async #batch(queries: QueryData[], opts: RequestOptions): Promise<string> {
    await this.backend.query(startTransactionSql(opts), []);
    const out = new ResponseWriter();
    try {
      out.write(`{"results":[`);
      for (const [i, q] of queries.entries()) {
        if (i > 0) out.write(",");
        await this.#run(out, q, opts);
      }
      out.write("]}");
    } catch (err) {
      await this.backend.query("ROLLBACK", []).catch(() => undefined);
      throw err;
    }
    // A failing COMMIT (e.g. a serialization failure) is the request's error.
    await this.backend.query("COMMIT", []);
    return out.toString();
  }

  async #run(out: ResponseWriter, q: QueryData, opts: RequestOptions): Promise<void> {
    const result = await this.backend.query(q.query, q.params);
    const elementTypeOf = opts.rawOutput ? () => undefined : await this.#elementTypesFor(result);
    writeResult(out, result, {
      arrayMode: q.arrayMode ?? opts.defaultArrayMode,
      rawOutput: opts.rawOutput,
      elementTypeOf,
    });
  }

  /** Only needed without raw text output, where array values become JSON lists. */
  async #elementTypesFor(result: RawResult): Promise<ElementTypeOf> {
    for (const { dataTypeID } of result.fields) {
      if (this.#elementTypes.has(dataTypeID)) continue;
      const found = await this.backend.query(
        "SELECT typelem::int4 FROM pg_catalog.pg_type WHERE oid = $1::oid AND typcategory = 'A' AND typelem <> 0",
        [String(dataTypeID)],
      );
      const elem = found.rows[0]?.[0];
      this.#elementTypes.set(dataTypeID, elem ? Number(elem) : null);
    }
    return (oid) => this.#elementTypes.get(oid) ?? undefined;
  }
}
