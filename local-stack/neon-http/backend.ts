/**
 * What the HTTP front needs from a Postgres: run one extended-protocol
 * statement with text params and hand back text values and full field
 * descriptions. Implemented over PGlite (`pglite-backend.ts`) and over a real
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

export interface SqlBackend {
  /**
   * Runs one statement (Parse/Bind/Describe/Execute/Sync). Rejects with
   * `PostgresError` when Postgres answers with an ErrorResponse.
   */
  query(text: string, params: (string | null)[]): Promise<RawResult>;
  /** True when the session is left inside a transaction block (open or failed). */
  inTransaction(): boolean;
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
