// Response shapes shared by every endpoint, mirroring hashicorp/vault
// `sdk/logical/translate_response.go` (HTTPResponse field order) and
// `sdk/logical/response_util.go` (RespondError).

/** What a handler answers; `body: undefined` means an empty body (204). */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** go-multierror's `Error()` text, which Vault puts on the wire verbatim. */
export function multiError(messages: string[]): string {
  const head = messages.length === 1 ? "1 error occurred:" : `${messages.length} errors occurred:`;
  return `${head}\n${messages.map((m) => `\t* ${m}`).join("\n")}\n\n`;
}

/** `{"errors":[...]}`; an empty list is what Vault sends for a plain 404. */
export function errorReply(status: number, messages: string[] = []): Reply {
  return { status, body: { errors: messages } };
}

export function noContent(): Reply {
  return { status: 204 };
}

export interface EnvelopeOptions {
  requestId: string;
  mountType: string;
  data: Record<string, unknown> | null;
  auth?: Record<string, unknown> | null;
  warnings?: string[] | null;
  status?: number;
  /** sys/ responses repeat `data`'s keys at the top level (logical.HTTPSysInjector). */
  sysInject?: boolean;
}

/** The standard success envelope, keys in the order Vault marshals them. */
export function envelope(o: EnvelopeOptions): Reply {
  const env: Record<string, unknown> = {
    request_id: o.requestId,
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data: o.data === null ? null : sortKeys(o.data),
    wrap_info: null,
    warnings: o.warnings && o.warnings.length > 0 ? o.warnings : null,
    auth: o.auth ?? null,
    mount_type: o.mountType,
  };
  if (o.sysInject && o.data) {
    return { status: o.status ?? 200, body: { ...sortKeys(o.data), ...env } };
  }
  return { status: o.status ?? 200, body: env };
}

/** Go marshals maps with sorted keys; do the same so bodies match byte for byte. */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => sortKeys(v)) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value as Record<string, unknown>).sort()) {
      out[k] = sortKeys((value as Record<string, unknown>)[k]);
    }
    return out as T;
  }
  return value;
}

/** Serialized body: Go's json.Encoder ends every document with a newline. */
export function serialize(body: unknown): string {
  return `${JSON.stringify(body)}\n`;
}
