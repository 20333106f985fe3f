import { ProviderError, parseRetryAfter, redactSecret } from "./errors";
import type { KeyCheck } from "./types";

export type FetchFn = typeof fetch;

/** How a provider client reaches its API. Built per request from config. */
export interface ProviderTransport {
  fetch: FetchFn;
  baseUrl: string;
  /** Time allowed until response headers, and between two streamed chunks. */
  timeoutMs: number;
}

/**
 * An idle timeout, not a total one: aborts when `ms` pass without a `touch` (streaming code touches
 * on every chunk). A touch only notes the time; the one timer re-arms itself for the remainder when
 * it fires early, so a stream of many chunks costs a timer per `ms`, not one per chunk.
 */
export class IdleTimer {
  readonly controller = new AbortController();
  private handle: ReturnType<typeof setTimeout> | undefined;
  private last = Date.now();
  timedOut = false;
  constructor(private readonly ms: number) {
    this.arm(ms);
  }
  private arm(delay: number): void {
    this.handle = setTimeout(() => {
      const idle = Date.now() - this.last;
      if (idle < this.ms) return this.arm(this.ms - idle);
      this.timedOut = true;
      this.controller.abort();
    }, delay);
  }
  touch(): void {
    this.last = Date.now();
  }
  clear(): void {
    clearTimeout(this.handle);
  }
}

const MAX_ERROR_BODY = 4096;

/** A request body already serialized (the caller's own bytes, relayed as sent): `postJson` sends it as is. */
export class JsonText {
  constructor(readonly text: string) {}
}

/**
 * POSTs JSON to a provider and returns the 2xx response with its body unread,
 * plus the timer guarding it. Anything else becomes a {@link ProviderError};
 * the provider's body is only read for a redacted log reason.
 */
export async function postJson(
  provider: string,
  transport: ProviderTransport,
  path: string,
  headers: Record<string, string>,
  body: unknown,
  secret: string,
): Promise<{ res: Response; timer: IdleTimer }> {
  return await send(provider, transport, path, secret, new IdleTimer(transport.timeoutMs), {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
    body: body instanceof JsonText ? body.text : JSON.stringify(body),
  });
}

/**
 * The longest a key check waits for the provider (or LLM_TIMEOUT_MS if shorter): an admin saving a
 * key waits for it, and no answer only makes the result `unknown`.
 */
export const KEY_CHECK_TIMEOUT_MS = 10_000;

/**
 * Checks a key with one GET that costs no tokens (the model list), for `ChatProvider.verify`:
 * 2xx → valid; 401/403 → rejected; timeout, network failure, 408/429/5xx or any other status →
 * unknown. A 401/403 that only says the key lacks the scope to list models (OpenAI's restricted
 * keys: "Missing scopes: api.model.read") is `unknown` too: such a key may still chat. The
 * provider's body decides nothing else and never reaches the reason.
 */
export async function checkKey(
  provider: string,
  transport: ProviderTransport,
  path: string,
  headers: Record<string, string>,
  secret: string,
  /** The client's reading of a refusal (Azure names the stored setting at fault). */
  explain: (err: ProviderError) => ProviderError = (err) => err,
): Promise<KeyCheck> {
  const timeoutMs = Math.min(transport.timeoutMs, KEY_CHECK_TIMEOUT_MS);
  const timer = new IdleTimer(timeoutMs);
  try {
    const { res } = await send(provider, transport, path, secret, timer, {
      method: "GET",
      headers: { accept: "application/json", ...headers },
    });
    await res.body?.cancel();
    return { verification: "valid", status: res.status, reason: `${provider} accepted the key.` };
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    return checkOutcome(explain(err), timeoutMs);
  } finally {
    timer.clear();
  }
}

/** A failed check as a verdict with a reason safe for the wire. */
function checkOutcome(err: ProviderError, timeoutMs: number): KeyCheck {
  const { provider, failure } = err;
  const unknown = (status: number | null, why: string): KeyCheck => ({
    verification: "unknown",
    status,
    reason: `${provider} ${why}; the key could not be checked.`,
  });
  switch (failure.kind) {
    case "key_rejected":
      if (err.scopeLimited)
        return unknown(
          failure.status,
          `answered HTTP ${failure.status}: the key may not list models (a restricted key), though it may still chat`,
        );
      return {
        verification: "rejected",
        status: failure.status,
        reason: `${provider} rejected the key (HTTP ${failure.status}).`,
      };
    case "unavailable":
      if (failure.status === 429) {
        const retry = failure.retryAfterSeconds === null ? "" : ` (retry after ${failure.retryAfterSeconds} s)`;
        return unknown(429, `is rate limiting the key${retry}`);
      }
      if (failure.status === null)
        return unknown(
          null,
          failure.reason === "timeout" ? `did not answer within ${timeoutMs} ms` : "could not be reached",
        );
      return unknown(failure.status, `is unavailable (HTTP ${failure.status})`);
    case "refused":
      if (failure.setting)
        return unknown(failure.status, `refused the stored ${failure.setting.field} (${failure.setting.problem})`);
      return unknown(failure.status, `refused the check (HTTP ${failure.status})`);
  }
}

/** One call under `timer`: the 2xx response with its body unread, or a {@link ProviderError}. */
async function send(
  provider: string,
  transport: ProviderTransport,
  path: string,
  secret: string,
  timer: IdleTimer,
  init: { method: string; headers: Record<string, string>; body?: string },
): Promise<{ res: Response; timer: IdleTimer }> {
  let res: Response;
  try {
    res = await transport.fetch(`${transport.baseUrl}${path}`, {
      ...init,
      // A redirect would resend the key to wherever it points; never follow one.
      redirect: "manual",
      signal: timer.controller.signal,
    });
  } catch (err) {
    timer.clear();
    const reason = timer.timedOut ? "timeout" : `network: ${(err as Error).name}`;
    throw new ProviderError(provider, { kind: "unavailable", status: null, retryAfterSeconds: null, reason });
  }
  if (res.ok) return { res, timer };
  // The timer still runs while the error body is read: a body that stalls cannot hold the call.
  const upstream = await upstreamReason(res, secret);
  timer.clear();
  const s = res.status;
  if (s === 401 || s === 403) {
    const rejected = new ProviderError(provider, { kind: "key_rejected", status: s }, upstream.reason);
    rejected.scopeLimited = upstream.scopeLimited;
    throw rejected;
  }
  if (s === 408 || s === 429 || s >= 500) {
    const retryAfterSeconds = parseRetryAfter(res.headers.get("retry-after"));
    throw new ProviderError(
      provider,
      { kind: "unavailable", status: s, retryAfterSeconds, reason: `http ${s}` },
      upstream.reason,
    );
  }
  throw new ProviderError(provider, { kind: "refused", status: s }, upstream.reason);
}

/** What a refusal said of missing permissions rather than of the key (OpenAI's restricted keys). */
const SCOPE_LIMITED = /insufficient permissions|missing scopes?:/i;

/**
 * The provider's error type and message, redacted and cut short, for the log only; and whether it
 * names a missing permission (see {@link checkKey}).
 */
async function upstreamReason(res: Response, secret: string): Promise<{ reason?: string; scopeLimited: boolean }> {
  try {
    const text = (await res.text()).slice(0, MAX_ERROR_BODY);
    const scopeLimited = SCOPE_LIMITED.test(text);
    let reason = text;
    try {
      const parsed = JSON.parse(text) as { error?: { type?: string; code?: string; message?: string } };
      const e = parsed.error;
      if (e) reason = [e.type, e.code, e.message].filter(Boolean).join(": ");
    } catch {
      // not JSON: keep the raw text, redacted below
    }
    return { reason: redactSecret(reason, secret).slice(0, 300), scopeLimited };
  } catch {
    return { scopeLimited: false };
  }
}

/** Reads a JSON body under the timer; a stall or bad JSON is a provider outage, not a gateway bug. */
export async function readJson<T>(provider: string, res: Response, timer: IdleTimer): Promise<T> {
  return (await readJsonText<T>(provider, res, timer)).json;
}

/** Like `readJson`, with the body's text too (an answer relayed as the provider wrote it). */
export async function readJsonText<T>(
  provider: string,
  res: Response,
  timer: IdleTimer,
): Promise<{ json: T; text: string }> {
  try {
    const text = await res.text();
    return { json: JSON.parse(text) as T, text };
  } catch {
    throw new ProviderError(provider, {
      kind: "unavailable",
      status: res.status,
      retryAfterSeconds: null,
      reason: timer.timedOut ? "timeout reading body" : "unreadable body",
    });
  } finally {
    timer.clear();
  }
}
