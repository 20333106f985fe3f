import type { Config } from "../config";
import { VaultError, vaultFetch } from "./http";

interface CachedToken {
  token: string;
  /** Epoch ms after which the token is not used any more (shortly before its lease ends). */
  renewAt: number;
}

/** Per-isolate AppRole token cache, keyed by Vault address + namespace + role. Tokens are not tenant data. */
const cache = new Map<string, CachedToken>();
/** Stop using a token this long before Vault expires it. */
const EXPIRY_MARGIN_MS = 30_000;

/** Supplies the gateway's own Vault token: the configured one, or an AppRole login cached until shortly before expiry. */
export class VaultTokenProvider {
  constructor(
    private readonly config: Config["vault"],
    private readonly fetcher: typeof fetch,
  ) {}

  /** Whether a 403 may be cured by logging in again (AppRole only). */
  get canRelogin(): boolean {
    return !!this.config.appRole;
  }

  private get cacheKey(): string {
    return `${this.config.addr}|${this.config.namespace ?? ""}|${this.config.appRole?.roleId ?? ""}`;
  }

  /** The token to send; logs in with AppRole when none is cached. */
  async token(): Promise<string> {
    if (!this.config.appRole) return this.config.token!;
    const hit = cache.get(this.cacheKey);
    if (hit && hit.renewAt > Date.now()) return hit.token;
    return await this.login();
  }

  /** Drops the cached token (after Vault refused it). */
  invalidate(): void {
    cache.delete(this.cacheKey);
  }

  private async login(): Promise<string> {
    const role = this.config.appRole!;
    const res = await vaultFetch(this.config, this.fetcher, "POST", "auth/approle/login", {
      body: { role_id: role.roleId, secret_id: role.secretId },
    });
    if (res.status === 400 || res.status === 403) throw new VaultError("auth", res.status);
    if (res.status !== 200) throw VaultError.fromStatus(res.status, res.headers);
    const body = (await res.json()) as { auth?: { client_token?: string; lease_duration?: number } };
    const token = body.auth?.client_token;
    if (!token) throw new VaultError("protocol", res.status);
    const leaseMs = (body.auth?.lease_duration ?? 0) * 1000;
    // lease_duration 0 means no expiry; still re-login hourly so revoked secret IDs are noticed.
    const life = leaseMs > 0 ? Math.max(leaseMs - EXPIRY_MARGIN_MS, leaseMs / 2) : 3_600_000;
    cache.set(this.cacheKey, { token, renewAt: Date.now() + life });
    return token;
  }
}
