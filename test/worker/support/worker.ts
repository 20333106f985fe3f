import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../../src/index";
import type { Bindings } from "../../../src/env";
import { mintToken, type TokenOptions } from "./tokens";

export interface CallOptions {
  token?: string | null;
  /** Mint a token with these options (ignored when `token` is given). */
  as?: TokenOptions;
  body?: unknown;
  rawBody?: BodyInit;
  headers?: Record<string, string>;
  /** Replace or add bindings for this call (a new env object → config parsed anew). */
  env?: Partial<Bindings>;
}

export interface CallResult {
  res: Response;
  status: number;
  text: string;
  json: any;
}

/**
 * Calls the Worker's fetch handler the way the runtime does, then waits for
 * every `waitUntil` (audit writes) to settle before returning.
 */
export async function call(method: string, path: string, o: CallOptions = {}): Promise<CallResult> {
  const headers = new Headers(o.headers);
  const token = o.token === undefined ? await mintToken(o.as) : o.token;
  if (token) headers.set("authorization", `Bearer ${token}`);
  let body: BodyInit | undefined = o.rawBody;
  if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const request = new Request(`https://gateway.test${path}`, { method, headers, body });
  const ctx = createExecutionContext();
  const e = o.env ? { ...env, ...o.env } : env;
  const res = await worker.fetch(request, e as Bindings, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { res, status: res.status, text, json };
}
