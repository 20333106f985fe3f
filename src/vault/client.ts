import type { Config } from "../config";
import { VaultTokenProvider } from "./auth";
import { VaultError, vaultFetch } from "./http";
import { assertSafePath, pathShape } from "./paths";

export { VaultError } from "./http";

export interface SecretVersion {
  version: number;
  created_time: string;
}
export interface Secret<T> {
  data: T;
  metadata: SecretVersion & { custom_metadata: Record<string, string> | null };
}
export interface SecretMetadata {
  current_version: number;
  oldest_version: number;
  created_time: string;
  updated_time: string;
  custom_metadata: Record<string, string> | null;
  versions?: Record<string, { created_time: string; deletion_time: string; destroyed: boolean }>;
}

/**
 * A KV v2 client over `fetch`, built per request. Only validated paths are sent
 * (`assertSafePath`); Vault's response bodies are parsed for the fields we need
 * and never passed on.
 */
export class VaultClient {
  private readonly tokens: VaultTokenProvider;
  constructor(
    private readonly config: Config["vault"],
    private readonly fetcher: typeof fetch = fetch,
  ) {
    this.tokens = new VaultTokenProvider(config, fetcher);
  }

  /** Reads the latest version; `null` when there is none (missing or deleted). */
  async read<T>(path: string): Promise<Secret<T> | null> {
    const res = await this.call("GET", `${this.config.mount}/data/${assertSafePath(path)}`);
    if (res.status === 404) return await discard(res, null);
    await expectStatus(res, 200);
    const body = (await res.json()) as { data?: Secret<T> };
    if (!body.data?.data || !body.data.metadata) throw new VaultError("protocol", res.status);
    return body.data;
  }

  /** Writes a new version. With `cas`, succeeds only if the current version is `cas` (0 = must not exist). */
  async write(path: string, data: Record<string, unknown>, cas?: number): Promise<SecretVersion> {
    const body = cas === undefined ? { data } : { data, options: { cas } };
    const res = await this.call("POST", `${this.config.mount}/data/${assertSafePath(path)}`, body);
    if (res.status === 400) {
      const text = await res.text();
      // Match Vault's messages (path_data.go) without ever passing them on. "required" is the mount or key
      // demanding check-and-set on every write: not a version race but a configuration problem.
      if (text.includes("check-and-set parameter required")) throw new VaultError("cas_required", 400);
      if (text.includes("check-and-set parameter")) throw new VaultError("cas_mismatch", 400);
      throw new VaultError("bad_request", 400);
    }
    await expectStatus(res, 200);
    const out = (await res.json()) as { data?: SecretVersion };
    if (typeof out.data?.version !== "number") throw new VaultError("protocol", res.status);
    return { version: out.data.version, created_time: out.data.created_time };
  }

  /** Reads the key's metadata; `null` when it does not exist. */
  async metadata(path: string): Promise<SecretMetadata | null> {
    const res = await this.call("GET", `${this.config.mount}/metadata/${assertSafePath(path)}`);
    if (res.status === 404) return await discard(res, null);
    await expectStatus(res, 200);
    const body = (await res.json()) as { data?: SecretMetadata };
    if (!body.data) throw new VaultError("protocol", res.status);
    return body.data;
  }

  /** Removes every version and the metadata (Vault answers 204 even when missing). */
  async destroyAll(path: string): Promise<void> {
    const res = await this.call("DELETE", `${this.config.mount}/metadata/${assertSafePath(path)}`);
    await expectStatus(res, 204);
  }

  /** Lists the names under a folder (folders end in `/`); empty when there is nothing. */
  async list(path: string): Promise<string[]> {
    const res = await this.call("GET", `${this.config.mount}/metadata/${assertSafePath(path)}`, undefined, "list=true");
    if (res.status === 404) return await discard(res, []);
    await expectStatus(res, 200);
    const body = (await res.json()) as { data?: { keys?: string[] } };
    return body.data?.keys ?? [];
  }

  /**
   * `sys/health` (no token): true when this node can serve the gateway — initialized, unsealed and
   * active, standby or performance standby (standbys forward or serve reads; without `standbyok`
   * / `perfstandbyok` they answer 429 / 473 and a cluster behind a load balancer would never be
   * ready). Not ready: 472 DR secondary (refuses the API), 474 standby cut off from the active
   * node, 501 not initialized, 503 sealed, 530 removed from the cluster.
   */
  async healthy(): Promise<boolean> {
    const res = await vaultFetch(this.config, this.fetcher, "GET", "sys/health", {
      query: "standbyok=true&perfstandbyok=true",
    });
    await res.body?.cancel();
    return res.status === 200;
  }

  /**
   * Sends an authenticated call. A 403 is either a token Vault no longer accepts (expired,
   * revoked: log in again once and retry once, AppRole only) or a policy that does not allow this
   * path (its own error; logging in again cannot help). See `refusal` for how they are told apart.
   */
  private async call(method: string, path: string, body?: unknown, query?: string): Promise<Response> {
    const token = await this.tokens.token();
    const res = await vaultFetch(this.config, this.fetcher, method, path, { token, body, query });
    if (res.status !== 403) return res;
    if ((await this.refusal(res, token)) === "policy") throw deniedError(method, path);
    if (!this.tokens.canRelogin) throw new VaultError("auth", 403);
    this.tokens.invalidate(token);
    const retry = await vaultFetch(this.config, this.fetcher, method, path, {
      token: await this.tokens.token(),
      body,
      query,
    });
    if (retry.status !== 403) return retry;
    // A token fresh from login that is refused again: trust the message, never loop.
    const text = await retry.text();
    throw text.includes("invalid token") ? new VaultError("auth", 403) : deniedError(method, path);
  }

  /**
   * Why Vault answered 403. Current Vault adds "invalid token" to "permission denied" when the
   * token itself is bad (docs: concepts/tokens "Error responses", vault#26687); older releases send
   * a bare "permission denied" for both cases (vault#2159). Then the token is asked about itself:
   * `auth/token/lookup-self` (granted by Vault's `default` policy and by the recommended policy)
   * succeeds only for a live token, so a 200 there means the policy refused the request.
   */
  private async refusal(res: Response, token: string): Promise<"token" | "policy"> {
    const text = await res.text();
    if (text.includes("invalid token")) return "token";
    const self = await vaultFetch(this.config, this.fetcher, "GET", "auth/token/lookup-self", { token });
    await self.body?.cancel();
    if (self.status === 200) return "policy";
    if (self.status === 403) return "token";
    throw VaultError.fromStatus(self.status, self.headers);
  }
}

/** A policy denial, with the path's shape (never a tenant id or service) for the log line. */
function deniedError(method: string, path: string): VaultError {
  return new VaultError("permission_denied", 403, undefined, `${method} ${pathShape(path)}`);
}

async function discard<T>(res: Response, value: T): Promise<T> {
  await res.body?.cancel();
  return value;
}

async function expectStatus(res: Response, status: number): Promise<void> {
  if (res.status === status) return;
  await res.body?.cancel();
  throw VaultError.fromStatus(res.status, res.headers);
}
