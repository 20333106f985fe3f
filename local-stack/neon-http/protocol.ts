/**
 * The HTTP side of Neon's SQL-over-HTTP protocol: request payloads, the batch
 * headers, connection-string checks and the error body. Behaviour and messages
 * follow Neon's proxy (`proxy/src/serverless/sql_over_http.rs`, `error.rs`,
 * `json.rs`) so that `@neondatabase/serverless` cannot tell us apart.
 */

/** The proxy's default `max_request_size_bytes` and `max_response_size_bytes`. */
export const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
export const MAX_RESPONSE_BYTES = 10 * 1024 * 1024;

export const HEADER = {
  connectionString: "neon-connection-string",
  rawTextOutput: "neon-raw-text-output",
  arrayMode: "neon-array-mode",
  isolationLevel: "neon-batch-isolation-level",
  readOnly: "neon-batch-read-only",
  deferrable: "neon-batch-deferrable",
  requestId: "neon-request-id",
} as const;

/** One statement as the proxy receives it; params are already Postgres text. */
export interface QueryData {
  query: string;
  params: (string | null)[];
  arrayMode: boolean | undefined;
}

export type Payload = { kind: "single"; query: QueryData } | { kind: "batch"; queries: QueryData[] };

export type IsolationLevel = "ReadUncommitted" | "ReadCommitted" | "RepeatableRead" | "Serializable";

/** What the proxy reads from the request headers (`HttpHeaders::try_parse`). */
export interface RequestOptions {
  rawOutput: boolean;
  defaultArrayMode: boolean;
  isolationLevel: IsolationLevel | undefined;
  readOnly: boolean;
  deferrable: boolean;
}

/** The 17 keys of every error body, in the proxy's order. */
export const ERROR_KEYS = [
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
] as const;

export type ErrorKey = (typeof ERROR_KEYS)[number];
export type PgErrorFieldKey = Exclude<ErrorKey, "message">;
/** The keys a Postgres ErrorResponse can carry (all but `message`). */
export const PG_ERROR_FIELD_KEYS = ERROR_KEYS.filter((k): k is PgErrorFieldKey => k !== "message");
/** Fields of a Postgres ErrorResponse (every one optional, as on the wire). */
export type PgErrorFields = Partial<Record<PgErrorFieldKey, string>>;

/** An error Postgres reported; the proxy answers it with 400 and all its fields. */
export class PostgresError extends Error {
  constructor(
    message: string,
    readonly fields: PgErrorFields,
  ) {
    super(message);
    this.name = "PostgresError";
  }
}

/** An error raised by the proxy itself (bad body, bad header, size limits). */
export class ProxyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "ProxyError";
  }
}

/**
 * The error body. `code` and `severity` default to "" and the rest to null,
 * because the proxy fills them with `unwrap_or_default()` of `&str` and `Option`.
 */
export function errorBody(message: string, fields: PgErrorFields = {}): Record<ErrorKey, string | null> {
  return {
    message,
    code: fields.code ?? "",
    detail: fields.detail ?? null,
    hint: fields.hint ?? null,
    position: fields.position ?? null,
    internalPosition: fields.internalPosition ?? null,
    internalQuery: fields.internalQuery ?? null,
    severity: fields.severity ?? "",
    where: fields.where ?? null,
    table: fields.table ?? null,
    column: fields.column ?? null,
    schema: fields.schema ?? null,
    dataType: fields.dataType ?? null,
    constraint: fields.constraint ?? null,
    file: fields.file ?? null,
    line: fields.line ?? null,
    routine: fields.routine ?? null,
  };
}

const ISOLATION_LEVELS: readonly IsolationLevel[] = [
  "ReadUncommitted",
  "ReadCommitted",
  "RepeatableRead",
  "Serializable",
];

type HeaderGetter = (name: string) => string | undefined;

/** Parses the output and batch headers; anything but exactly "true" is false. */
export function parseRequestOptions(header: HeaderGetter): RequestOptions {
  const level = header(HEADER.isolationLevel);
  if (level !== undefined && !ISOLATION_LEVELS.includes(level as IsolationLevel)) {
    throw new ProxyError(400, "invalid isolation level");
  }
  return {
    rawOutput: header(HEADER.rawTextOutput) === "true",
    defaultArrayMode: header(HEADER.arrayMode) === "true",
    isolationLevel: level as IsolationLevel | undefined,
    readOnly: header(HEADER.readOnly) === "true",
    deferrable: header(HEADER.deferrable) === "true",
  };
}

/** The role, password and database a stand-in accepts, as Neon knows them for an endpoint. */
export interface Credentials {
  user: string;
  password: string;
  database: string;
}

/**
 * Checks `Neon-Connection-String` like the proxy's `get_conn_info`, so a client
 * misconfigured locally fails here too; with `credentials`, the role, password
 * and database are checked as Neon does after that (see `checkCredentials`).
 */
export function checkConnectionString(header: HeaderGetter, credentials?: Credentials): void {
  const raw = header(HEADER.connectionString);
  if (raw === undefined) throw new ProxyError(400, `invalid header: ${HEADER.connectionString}`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch (err) {
    throw new ProxyError(400, `invalid connection string: ${(err as Error).message}`);
  }
  if (url.protocol !== "postgres:" && url.protocol !== "postgresql:") {
    throw new ProxyError(400, "incorrect scheme");
  }
  if (url.pathname.replace(/^\//, "") === "") throw new ProxyError(400, "invalid database name");
  if (url.username === "") throw new ProxyError(400, "missing username");
  const hasBearer = /^Bearer\s/i.test(header("authorization") ?? "");
  if (url.password === "" && !hasBearer) {
    throw new ProxyError(400, "missing authentication credentials: required password");
  }
  if (url.hostname === "") throw new ProxyError(400, "missing hostname");
  if (credentials) checkCredentials(url, hasBearer, credentials);
}

/**
 * Neon authenticates the role's password itself (`AuthError::PasswordFailed`: 400, message only,
 * the same for an unknown role, so roles cannot be probed), then the compute refuses a database
 * that does not exist with its own FATAL 3D000, which the proxy passes on with its fields.
 */
function checkCredentials(url: URL, hasBearer: boolean, expected: Credentials): void {
  const user = decodeURIComponent(url.username);
  if (!hasBearer && (user !== expected.user || decodeURIComponent(url.password) !== expected.password)) {
    throw new ProxyError(400, `password authentication failed for user '${user}'`);
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (database !== expected.database) {
    throw new PostgresError(`database "${database}" does not exist`, {
      code: "3D000",
      severity: "FATAL",
      file: "postinit.c",
      routine: "InitPostgres",
    });
  }
}

const UNTAGGED_MISMATCH = "data did not match any variant of untagged enum Payload";

/**
 * Parses the body as serde does for the proxy's untagged `Payload`: a single
 * query is tried first, then a batch; unknown keys are ignored.
 */
export function parsePayload(body: string): Payload {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new ProxyError(400, `could not parse the HTTP request body: ${(err as Error).message}`);
  }
  const single = toQueryData(json);
  if (single) return { kind: "single", query: single };
  if (isObject(json) && Array.isArray(json.queries)) {
    const queries = json.queries.map(toQueryData);
    if (queries.every((q): q is QueryData => q !== undefined)) return { kind: "batch", queries };
  }
  throw new ProxyError(400, `could not parse the HTTP request body: ${UNTAGGED_MISMATCH}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function toQueryData(v: unknown): QueryData | undefined {
  if (!isObject(v) || typeof v.query !== "string") return undefined;
  const params = v.params ?? [];
  if (!Array.isArray(params)) return undefined;
  const arrayMode = v.arrayMode ?? undefined;
  if (arrayMode !== undefined && typeof arrayMode !== "boolean") return undefined;
  return { query: v.query, params: params.map(jsonToPgText), arrayMode };
}

/** `json_value_to_pg_text`: strings pass as-is, arrays become PG array literals. */
export function jsonToPgText(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return jsonArrayToPgArray(value);
  return JSON.stringify(value);
}

/** `json_array_to_pg_array`: inside an array, strings are JSON-quoted. */
function jsonArrayToPgArray(value: unknown): string | null {
  if (value === null) return null;
  if (Array.isArray(value)) {
    return `{${value.map((v) => jsonArrayToPgArray(v) ?? "NULL").join(",")}}`;
  }
  if (isObject(value)) return jsonArrayToPgArray(JSON.stringify(value));
  return JSON.stringify(value);
}

/** The `START TRANSACTION` text tokio-postgres's `TransactionBuilder` sends. */
export function startTransactionSql(opts: RequestOptions): string {
  const modes: string[] = [];
  if (opts.isolationLevel)
    modes.push(`ISOLATION LEVEL ${opts.isolationLevel.replace(/(?<=[a-z])(?=[A-Z])/g, " ").toUpperCase()}`);
  if (opts.readOnly) modes.push("READ ONLY");
  if (opts.deferrable) modes.push("DEFERRABLE");
  return modes.length === 0 ? "START TRANSACTION" : `START TRANSACTION ${modes.join(", ")}`;
}
