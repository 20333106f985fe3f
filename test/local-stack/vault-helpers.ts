// Shared helpers for the Vault stand-in contract tests (not a test file).
import { request } from "node:http";

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Go's RFC3339Nano in UTC, as Vault prints protobuf timestamps. */
export const RFC3339_NANO_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
/** A policy for the AppRole tokens of the contract tests: everything under secret/. */
export const APP_POLICIES = {
  app: 'path "secret/*" {\n  capabilities = ["create", "read", "update", "delete", "list"]\n}\n',
};

export const ENVELOPE_KEYS = [
  "request_id",
  "lease_id",
  "renewable",
  "lease_duration",
  "data",
  "wrap_info",
  "warnings",
  "auth",
  "mount_type",
];

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: any; // bodies are inspected field by field in the tests
}

/** fetch against the stand-in; `token: null` sends no token. */
export async function call(
  base: string,
  method: string,
  path: string,
  opts: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers["X-Vault-Token"] = opts.token;
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: text === "" ? undefined : JSON.parse(text) };
}

/**
 * A request whose path is sent byte for byte: fetch (WHATWG URL) would
 * resolve "..", "." and "%2e%2e" before sending, hiding what we test.
 */
export function rawRequest(
  port: number,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; text: string; cacheControl: string | undefined }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        headers: { "X-Vault-Token": token, ...(payload ? { "Content-Type": "application/json" } : {}) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text, cacheControl: res.headers["cache-control"] }));
      },
    );
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}
