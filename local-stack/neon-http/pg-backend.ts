/**
 * A real Postgres behind the stand-in, through node-postgres. One client (not
 * a pool) so that a batch's START TRANSACTION … COMMIT stays on one session,
 * the way the proxy holds one connection per request.
 */
import pg from "pg";
import { fieldDescription, type RawResult, type SqlBackend } from "./backend.js";
import { PG_ERROR_FIELD_KEYS, PostgresError, type PgErrorFields } from "./protocol.js";

/** Every value stays the text Postgres sent: the Neon client parses it itself. */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

/** Connects to `postgresUrl` and returns a backend using that one session. */
export async function createPgBackend(postgresUrl: string): Promise<SqlBackend> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  return new PgBackend(client);
}

class PgBackend implements SqlBackend {
  #closed = false;

  constructor(private readonly client: pg.Client) {
    // A dropped connection must not crash the process; the next query reports it.
    client.on("error", () => {});
  }

  async query(text: string, params: (string | null)[]): Promise<RawResult> {
    try {
      const result = await this.client.query({
        text,
        values: params,
        rowMode: "array",
        types: TEXT_TYPES,
        // Always Parse/Bind/Execute, even without params: one statement per query.
        queryMode: "extended",
      } as pg.QueryArrayConfig);
      return {
        fields: result.fields.map(fieldDescription),
        rows: result.rows as (string | null)[][],
        commandTag: commandTag(result),
      };
    } catch (err) {
      throw toPostgresError(err);
    }
  }

  inTransaction(): boolean {
    const status = this.client.getTransactionStatus();
    return status !== null && status !== "I";
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.client.end();
  }
}

/**
 * node-postgres keeps only the parsed tag (command, rowCount); rebuild a tag
 * the proxy's parser reads the same way. INSERT's OID word is always 0 today.
 */
function commandTag(result: pg.QueryResult<unknown[]>): string | null {
  if (!result.command) return null;
  if (result.rowCount === null) return result.command;
  return result.command === "INSERT" ? `INSERT 0 ${result.rowCount}` : `${result.command} ${result.rowCount}`;
}

function toPostgresError(err: unknown): PostgresError {
  if (!(err instanceof Error)) return new PostgresError(String(err), {});
  const source = err as Error & Partial<Record<string, unknown>>;
  const fields: PgErrorFields = {};
  // Only a DatabaseError (from an ErrorResponse) carries SQLSTATE fields;
  // socket errors become a message-only error, as with the proxy.
  if (err instanceof pg.DatabaseError) {
    for (const key of PG_ERROR_FIELD_KEYS) {
      const value = source[key];
      if (typeof value === "string") fields[key] = value;
    }
  }
  return new PostgresError(err.message, fields);
}
