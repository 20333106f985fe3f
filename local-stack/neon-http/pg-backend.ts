/**
 * A real Postgres behind the stand-in, through a node-postgres pool: like the
 * proxy's connection pool, each request gets a connection of its own for its
 * whole batch, and requests run side by side, so concurrent transactions meet
 * as on Neon (40001 serialization failures, 40P01 deadlocks, 23505 between
 * concurrent inserts).
 */
import pg from "pg";
import { fieldDescription, type RawResult, type SqlBackend, type SqlSession } from "./backend.js";
import { PG_ERROR_FIELD_KEYS, PostgresError, type PgErrorFields } from "./protocol.js";

/** Every value stays the text Postgres sent: the Neon client parses it itself. */
const TEXT_TYPES = { getTypeParser: () => (value: string) => value };

/** Connections per stand-in; Neon's pooler allows far more, this is enough for local concurrency. */
const POOL_SIZE = 10;

/** Connects to `postgresUrl` (checking it answers) and returns a pooled backend. */
export async function createPgBackend(postgresUrl: string): Promise<SqlBackend> {
  const pool = new pg.Pool({ connectionString: postgresUrl, max: POOL_SIZE });
  // An idle connection dropped by the server must not crash the process; the next query reports it.
  pool.on("error", () => {});
  const probe = await pool.connect();
  probe.release();
  return new PgBackend(pool);
}

class PgBackend implements SqlBackend {
  #closed = false;

  constructor(private readonly pool: pg.Pool) {}

  async withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch((err: unknown) => {
      throw toPostgresError(err);
    });
    const session = new PgSession(client);
    let broken = false;
    try {
      return await fn(session);
    } catch (err) {
      broken = !(err instanceof PostgresError && err.fields.code);
      throw err;
    } finally {
      // The proxy discards a connection left inside a transaction or broken, never reusing it.
      client.release(broken || session.inTransaction());
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.pool.end();
  }
}

class PgSession implements SqlSession {
  constructor(private readonly client: pg.PoolClient) {}

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
