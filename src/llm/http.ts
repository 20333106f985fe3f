import { ProviderError, parseRetryAfter, redactSecret } from "./errors";

export type FetchFn = typeof fetch;

/** How a provider client reaches its API. Built per request from config. */
export interface ProviderTransport {
  fetch: FetchFn;
  baseUrl: string;
  /** Time allowed until response headers, and between two streamed chunks. */
  timeoutMs: number;
}

/** An abort timer that streaming code re-arms on every chunk (an idle timeout, not a total one). */
export class IdleTimer {
  readonly controller = new AbortController();
  private handle: ReturnType<typeof setTimeout> | undefined;
  timedOut = false;
  constructor(private readonly ms: number) {
    this.touch();
  }
  touch(): void {
    clearTimeout(this.handle);
    this.handle = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, this.ms);
  }
  clear(): void {
    clearTimeout(this.handle);
  }
}

const MAX_ERROR_BODY = 4096;

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
  const timer = new IdleTimer(transport.timeoutMs);
  let res: Response;
  try {
    res = await transport.fetch(`${transport.baseUrl}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...headers },
      body: JSON.stringify(body),
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
  timer.clear();
  const upstream = await upstreamReason(res, secret);
  const s = res.status;
  if (s === 401 || s === 403) throw new ProviderError(provider, { kind: "key_rejected", status: s }, upstream);
  if (s === 408 || s === 429 || s >= 500) {
    const retryAfterSeconds = parseRetryAfter(res.headers.get("retry-after"));
    throw new ProviderError(
      provider,
      { kind: "unavailable", status: s, retryAfterSeconds, reason: `http ${s}` },
      upstream,
    );
  }
  throw new ProviderError(provider, { kind: "refused", status: s }, upstream);
}

/** The provider's error type and message, redacted and cut short, for the log only. */
async function upstreamReason(res: Response, secret: string): Promise<string | undefined> {
  try {
    const text = (await res.text()).slice(0, MAX_ERROR_BODY);
    let reason = text;
    try {
      const parsed = JSON.parse(text) as { error?: { type?: string; code?: string; message?: string } };
      const e = parsed.error;
      if (e) reason = [e.type, e.code, e.message].filter(Boolean).join(": ");
    } catch {
      // not JSON: keep the raw text, redacted below
    }
    return redactSecret(reason, secret).slice(0, 300);
  } catch {
    return undefined;
  }
}

/** Reads a JSON body under the timer; a stall or bad JSON is a provider outage, not a gateway bug. */
export async function readJson<T>(provider: string, res: Response, timer: IdleTimer): Promise<T> {
  try {
    return (await res.json()) as T;
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
