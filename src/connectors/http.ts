import { urlProblem, type LoopbackPolicy } from "../lib/reach";
import { parseRetryAfter } from "../llm/errors";
import { ConnectorError } from "./types";

/** How far a connector may reach: the shared SSRF rules (CONNECTORS_ALLOW_LOOPBACK: loopback http too) and a timeout. */
export interface ReachPolicy extends LoopbackPolicy {
  timeoutMs: number;
}

// The SSRF check is shared with the other tenant-given URLs (lib/reach.ts); connectors' callers import it from here.
export { urlProblem };

const MAX_REDIRECTS = 3;
/** Largest answer read from a site or shop: a page of 100 posts is a few MiB at most. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * One call to a connected site or shop: the URL is checked against the policy,
 * every call has a timeout, redirects are followed only on the same origin
 * (credentials never travel to another host), and network failures become a
 * retryable `ConnectorError`. The caller reads the status.
 */
export async function connectorFetch(
  policy: ReachPolicy,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
  fetcher: typeof fetch = fetch,
): Promise<Response> {
  let current = url;
  for (let hop = 0; ; hop++) {
    const problem = urlProblem(current, policy);
    if (problem) throw new ConnectorError("refused_url", `The site URL ${problem}.`);
    let res: Response;
    try {
      res = await fetcher(current, {
        method: init.method ?? "GET",
        headers: init.headers,
        body: init.body,
        redirect: "manual",
        signal: AbortSignal.timeout(policy.timeoutMs),
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
      throw new ConnectorError(
        "unavailable",
        timedOut ? "The site did not answer in time." : "The site is unreachable.",
      );
    }
    if (res.status < 300 || res.status >= 400 || res.status === 304) return res;
    const location = res.headers.get("location");
    await res.body?.cancel();
    if (!location) throw new ConnectorError("bad_response", `The site answered HTTP ${res.status} without a Location.`);
    const next = new URL(location, current);
    if (next.origin !== new URL(current).origin) {
      throw new ConnectorError(
        "refused_url",
        `The site redirects to another host (${next.host}); use that URL instead.`,
      );
    }
    if (hop >= MAX_REDIRECTS) throw new ConnectorError("bad_response", "The site redirects too many times.");
    current = next.toString();
  }
}

/** Reads a JSON body up to MAX_RESPONSE_BYTES; anything else is a bad answer (never echoed). */
export async function readJson<T>(res: Response, what: string): Promise<T> {
  const declared = Number(res.headers.get("content-length"));
  if (declared > MAX_RESPONSE_BYTES) {
    await res.body?.cancel();
    throw new ConnectorError("bad_response", `${what} is larger than ${MAX_RESPONSE_BYTES} bytes.`);
  }
  const text = await res.text();
  if (text.length > MAX_RESPONSE_BYTES)
    throw new ConnectorError("bad_response", `${what} is larger than ${MAX_RESPONSE_BYTES} bytes.`);
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ConnectorError("bad_response", `${what} is not JSON.`);
  }
}

/** Seconds to wait from a Retry-After header (seconds or HTTP date), bounded to [1, 600]. */
export function retryAfterSeconds(res: Response, fallback = 5): number {
  return Math.min(Math.max(parseRetryAfter(res.headers.get("retry-after")) ?? fallback, 1), 600);
}
