import type { Config } from "../config";

/** Why a Vault call failed, without any of Vault's response body. */
export type VaultFailure =
  | "unavailable" // sealed, unreachable, timed out, 5xx
  | "rate_limited" // 429 quota
  | "auth" // Vault refused the gateway's own credentials (bad, expired or revoked token; bad AppRole login)
  | "permission_denied" // the token is valid but its policy does not allow this path and capability
  | "cas_mismatch" // check-and-set version did not match
  | "cas_required" // the mount or key demands check-and-set (`cas_required`): a Vault configuration problem
  | "bad_request" // Vault rejected the request (a gateway bug or bad input that slipped through)
  | "protocol"; // an answer Vault should never give

/** A failed Vault call. The message is safe to log: a kind and a status, never a body. */
export class VaultError extends Error {
  constructor(
    readonly kind: VaultFailure,
    readonly status: number,
    readonly retryAfterSeconds?: number,
    /** What was refused, as a path shape such as `GET secret/data/tenants/:tenant/api_keys/:service`. */
    readonly operation?: string,
  ) {
    super(`vault ${kind} (HTTP ${status || "none"})${operation ? ` on ${operation}` : ""}`);
    this.name = "VaultError";
  }

  static fromStatus(status: number, headers?: Headers): VaultError {
    if (status === 429) return new VaultError("rate_limited", status, retryAfter(headers) ?? 1);
    if (status === 403) return new VaultError("auth", status);
    if (status >= 500 || status === 0) return new VaultError("unavailable", status, retryAfter(headers) ?? 5);
    // A standby without request forwarding redirects to the active node (307). The redirect is never
    // followed (the token must not travel to another host): during a leader change it is "retry shortly".
    if (status === 307 || status === 308) return new VaultError("unavailable", status, retryAfter(headers) ?? 1);
    if (status >= 300 && status < 400) return new VaultError("protocol", status);
    return new VaultError("bad_request", status);
  }
}

function retryAfter(headers?: Headers): number | undefined {
  const v = Number(headers?.get("retry-after"));
  return Number.isFinite(v) && v > 0 ? Math.min(v, 300) : undefined;
}

/**
 * One HTTP call to Vault: timeout, no redirects, namespace header. Network
 * failures and timeouts become `VaultError("unavailable")`; statuses are the caller's to read.
 */
export async function vaultFetch(
  config: Config["vault"],
  fetcher: typeof fetch,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; query?: string } = {},
): Promise<Response> {
  // As Vault's own clients do; listeners with `require_request_header` refuse requests without it.
  const headers: Record<string, string> = { "X-Vault-Request": "true" };
  if (opts.token) headers["X-Vault-Token"] = opts.token;
  if (config.namespace) headers["X-Vault-Namespace"] = config.namespace;
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  const url = `${config.addr}/v1/${path}${opts.query ? `?${opts.query}` : ""}`;
  try {
    return await fetcher(url, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      // A redirect could carry the token to another host.
      redirect: "manual",
      signal: AbortSignal.timeout(config.timeoutMs),
    });
  } catch {
    throw new VaultError("unavailable", 0, 5);
  }
}
