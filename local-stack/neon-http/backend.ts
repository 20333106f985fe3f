/**
 * What the HTTP front needs from a Postgres: a session per request that runs
 * one extended-protocol statement at a time with text params and hands back
 * text values and full field descriptions. Implemented over PGlite (`pglite-backend.ts`) and over a real
 * server through node-postgres (`pg-backend.ts`).
 */

/** A RowDescription field, keys in the order the proxy writes them. */
export interface FieldDescription {
  name: string;
  dataTypeID: number;
  tableID: number;
  columnID: number;
  dataTypeSize: number;
  dataTypeModifier: number;
  format: "text";
}

export interface RawResult {
  fields: FieldDescription[];
  /** Text values exactly as Postgres sent them. */
  rows: (string | null)[][];
  /** The CommandComplete tag, e.g. "INSERT 0 1"; null for an empty query. */
  commandTag: string | null;
}

/** One Postgres session (connection): what one HTTP request runs on. */
export interface SqlSession {
  /**
   * Runs one statement (Parse/Bind/Describe/Execute/Sync). Rejects with
   * `PostgresError` when Postgres answers with an ErrorResponse.
   */
  query(text: string, params: (string | null)[]): Promise<RawResult>;
  /** True when the session is left inside a transaction block (open or failed). */
  inTransaction(): boolean;
}

export interface SqlBackend {
  /**
   * Runs `fn` on a session of its own, as the proxy gives each request a pooled
   * connection: over a real Postgres requests run side by side (so serialization
   * failures, deadlocks and unique violations between them happen as on Neon);
   * PGlite has one session, so there they run one after another.
   */
  withSession<T>(fn: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Builds a field description from whatever a driver reports. */
export function fieldDescription(f: {
  name: string;
  dataTypeID: number;
  tableID: number;
  columnID: number;
  dataTypeSize: number;
  dataTypeModifier: number;
}): FieldDescription {
  return {
    name: f.name,
    dataTypeID: f.dataTypeID,
    tableID: f.tableID,
    columnID: f.columnID,
    dataTypeSize: f.dataTypeSize,
    dataTypeModifier: f.dataTypeModifier,
    format: "text",
  };
}
