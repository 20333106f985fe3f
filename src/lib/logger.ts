/** Fields that may hold secrets; their values are replaced before a line is written. */
const SECRET_FIELD = /(key|token|secret|password|authorization|cookie|credential)/i;
/** Values that look like provider keys or bearer tokens, wherever they appear. */
const SECRET_VALUE =
  /\b(sk-[A-Za-z0-9_-]{6,}|bgk_[A-Za-z0-9]{6,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*|hvs\.[A-Za-z0-9_-]+)/g;

/** Field names that look secret but are not: shown as they are (their values still pass the value check). */
const PUBLIC_FIELDS = new Set(["key_hint", "api_key_id"]);

export type LogFields = Record<string, unknown>;

/** Structured JSON logger: one line per event, with the request id, secrets redacted. */
export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

/** Redacts secret-looking fields and values, recursively. Exported for tests and the audit writer. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return value.replace(SECRET_VALUE, "[redacted]");
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // `key_hint` is a masked hint and `api_key_id` a row id by construction; everything else key-ish is hidden.
    out[k] = SECRET_FIELD.test(k) && !PUBLIC_FIELDS.has(k) ? "[redacted]" : redact(v, depth + 1);
  }
  return out;
}

/** Creates a logger bound to a request id. */
export function createLogger(base: LogFields = {}, sink: (line: string) => void = console.log): Logger {
  const write = (level: string, event: string, fields?: LogFields) =>
    sink(
      JSON.stringify({ level, event, time: new Date().toISOString(), ...base, ...(redact(fields ?? {}) as LogFields) }),
    );
  return {
    info: (e, f) => write("info", e, f),
    warn: (e, f) => write("warn", e, f),
    error: (e, f) => write("error", e, f),
  };
}
