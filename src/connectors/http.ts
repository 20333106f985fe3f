import ipaddr from "ipaddr.js";
import { parseRetryAfter } from "../llm/errors";
import { ConnectorError } from "./types";

/** How far a connector may reach: production allows https on public hosts only. */
export interface ReachPolicy {
  /** Local development only (CONNECTORS_ALLOW_LOOPBACK, refused in production): http and loopback hosts. */
  allowLoopback: boolean;
  timeoutMs: number;
}

/** Host names that name the local machine, a private zone or a cloud metadata service. */
const PRIVATE_NAME = /(^|\.)(localhost|local|internal|intranet|lan|home\.arpa|localdomain)$/i;
const MAX_REDIRECTS = 3;
/** Largest answer read from a site or shop: a page of 100 posts is a few MiB at most. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/**
 * Why `raw` (a site or shop base URL given by a tenant) may not be reached, or
 * null when it may. Refuses: other schemes, credentials in the URL, IP
 * literals outside public unicast space (loopback, private, link-local —
 * which holds the cloud metadata address —, CGNAT, unique-local, mapped
 * IPv4 of those…), single-label and private-zone names. Names are not
 * resolved here (Workers have no DNS API); a Worker's fetch leaves from
 * Cloudflare's edge, where a public name resolving to a private address
 * reaches nothing of ours.
 */
export function urlProblem(raw: string, policy: Pick<ReachPolicy, "allowLoopback">): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not a URL";
  }
  if (url.username || url.password) return "must not contain a user name or password";
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const loopback = isLoopback(host);
  if (policy.allowLoopback && loopback) {
    return url.protocol === "http:" || url.protocol === "https:" ? null : "must be an http(s) URL";
  }
  if (url.protocol !== "https:") return "must be an https URL";
  if (ipaddr.isValid(host)) {
    let addr = ipaddr.parse(host);
    if (addr.kind() === "ipv6" && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
      addr = (addr as ipaddr.IPv6).toIPv4Address();
    }
    return addr.range() === "unicast" ? null : "must be a public host (not a loopback, private or link-local address)";
  }
  if (!host.includes(".") || PRIVATE_NAME.test(host)) return "must be a public host name";
  return null;
}

function isLoopback(host: string): boolean {
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  return ipaddr.isValid(host) && ipaddr.parse(host).range() === "loopback";
}

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
