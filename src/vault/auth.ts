import type { Config } from "../config";
import { VaultError, vaultFetch } from "./http";

interface CachedToken {
  token: string;
  /** Epoch ms after which the token is not used any more (shortly before its lease ends). */
  renewAt: number;
}

/** Per-isolate AppRole token cache, keyed by Vault address + namespace + role. Tokens are not tenant data. */
const cache = new Map<string, CachedToken>();
/**
 * Logins under way, so concurrent cold requests share one (single flight) instead of each
 * logging in: an isolate serves many requests at once, and AppRole logins are Vault's costliest
 * call (secret ID lookup, token creation, a storage write each).
 */
const inflight = new Map<string, Promise<CachedToken>>();
/** Stop using a token this long before Vault expires it. */
const EXPIRY_MARGIN_MS = 30_000;

/** Supplies the gateway's own Vault token: the configured one, or an AppRole login cached until shortly before expiry. */
export class VaultTokenProvider {
  constructor(
    private readonly config: Config["vault"],
    private readonly fetcher: typeof fetch,
  ) {}

  /** Whether a refused token may be cured by logging in again (AppRole only). */
  get canRelogin(): boolean {
    return !!this.config.appRole;
  }

  private get cacheKey(): string {
    return `${this.config.addr}|${this.config.namespace ?? ""}|${this.config.appRole?.roleId ?? ""}`;
  }

  /** The token to send; logs in with AppRole when none is cached (one login per isolate at a time). */
  async token(): Promise<string> {
    if (!this.config.appRole) return this.config.token!;
    const hit = cache.get(this.cacheKey);
    if (hit && hit.renewAt > Date.now()) return hit.token;
    return (await this.sharedLogin()).token;
  }

  /** Drops the cached token after Vault called it invalid, unless another request already replaced it. */
  invalidate(token: string): void {
    if (cache.get(this.cacheKey)?.token === token) cache.delete(this.cacheKey);
  }

  private async sharedLogin(): Promise<CachedToken> {
    const key = this.cacheKey;
    const pending = inflight.get(key);
    if (pending) {
      // The login belongs to another request. If that request is cancelled, its fetch may never
      // settle here, so wait at most one Vault timeout, then log in ourselves.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waited = await Promise.race([
        pending.then(
          (t) => t,
          () => null,
        ),
        new Promise<null>((resolve) => {
          timer = setTimeout(() => resolve(null), this.config.timeoutMs);
        }),
      ]);
      clearTimeout(timer);
      if (waited) return waited;
      return await this.login();
    }
    const mine = this.login();
    inflight.set(key, mine);
    try {
      return await mine;
    } finally {
      if (inflight.get(key) === mine) inflight.delete(key);
    }
  }

  private async login(): Promise<CachedToken> {
    const role = this.config.appRole!;
    const res = await vaultFetch(this.config, this.fetcher, "POST", "auth/approle/login", {
      body: { role_id: role.roleId, secret_id: role.secretId },
    });
    if (res.status === 400 || res.status === 403) {
      await res.body?.cancel();
      throw new VaultError("auth", res.status);
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      throw VaultError.fromStatus(res.status, res.headers);
    }
    const body = (await res.json()) as { auth?: { client_token?: string; lease_duration?: number } };
    const token = body.auth?.client_token;
    if (!token) throw new VaultError("protocol", res.status);
    const leaseMs = (body.auth?.lease_duration ?? 0) * 1000;
    // lease_duration 0 means no expiry; still re-login hourly so revoked secret IDs are noticed.
    const life = leaseMs > 0 ? Math.max(leaseMs - EXPIRY_MARGIN_MS, leaseMs / 2) : 3_600_000;
    const cached = { token, renewAt: Date.now() + life };
    cache.set(this.cacheKey, cached);
    return cached;
  }
}
