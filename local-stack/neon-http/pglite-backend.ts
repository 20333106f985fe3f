/**
 * PGlite (WASM Postgres, with pgvector) behind the stand-in. We speak the wire
 * protocol to it instead of calling `query()`: `query()` parses values and
 * reports only `{name, dataTypeID}` per field, while Neon sends the raw text
 * and the whole RowDescription. The extended protocol also gives the proxy's
 * "one statement per query" rule for free (Parse rejects two with 42601).
 */
import { PGlite, messages, protocol } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { fieldDescription, type RawResult, type SqlBackend, type SqlSession } from "./backend.js";
import { PG_ERROR_FIELD_KEYS, PostgresError, type PgErrorFields } from "./protocol.js";

const { serialize } = protocol;

/** Creates the one PGlite instance a server uses (slow: seconds). */
export async function createPgliteBackend(dataDir?: string): Promise<SqlBackend> {
  const db = await PGlite.create({ dataDir, extensions: { vector } });
  return new PgliteBackend(db);
}

/**
 * PGlite is one connection, and a batch is one transaction on it: requests
 * run one after another or they would land inside each other's batch.
 */
class PgliteBackend implements SqlBackend, SqlSession {
  #txStatus = "I";
  #tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly db: PGlite) {}

  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    const result = this.#tail.then(() => fn(this));
    this.#tail = result.catch(() => undefined);
    return result;
  }

  async query(text: string, params: (string | null)[]): Promise<RawResult> {
    const message = concat([
      serialize.parse({ text }),
      serialize.bind({ values: params }),
      serialize.describe({ type: "P" }),
      serialize.execute({}),
      serialize.sync(),
    ]);
    // PGlite's own lock keeps this from interleaving with its internal queries.
    const { messages: replies } = await this.db.runExclusive(() =>
      this.db.execProtocol(message, { throwOnError: false }),
    );
    return this.#collect(replies);
  }

  inTransaction(): boolean {
    return this.#txStatus !== "I";
  }

  async close(): Promise<void> {
    await this.#tail; // requests already queued finish first
    if (!this.db.closed) await this.db.close();
  }

  #collect(replies: messages.BackendMessage[]): RawResult {
    const result: RawResult = { fields: [], rows: [], commandTag: null };
    let error: messages.DatabaseError | undefined;
    for (const m of replies) {
      if (m instanceof messages.RowDescriptionMessage) result.fields = m.fields.map(fieldDescription);
      else if (m instanceof messages.DataRowMessage) result.rows.push(m.fields);
      else if (m instanceof messages.CommandCompleteMessage) result.commandTag = m.text;
      else if (m instanceof messages.ReadyForQueryMessage) this.#txStatus = m.status;
      else if (m instanceof messages.DatabaseError) error ??= m;
    }
    if (error) throw toPostgresError(error);
    return result;
  }
}

function toPostgresError(e: messages.DatabaseError): PostgresError {
  const fields: PgErrorFields = {};
  for (const key of PG_ERROR_FIELD_KEYS) {
    const value = e[key];
    if (value !== undefined) fields[key] = value;
  }
  return new PostgresError(e.message, fields);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
