// Token checking, AppRole login and token lookup-self. Messages follow
// hashicorp/vault builtin/credential/approle/path_login.go and the token
// store; the auth object follows sdk/logical HTTPAuth field order.
import { createHash, randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { envelope, errorReply, multiError, type Reply } from "./respond";
import type { IssuedToken, Store } from "./store";
import { nowNanos, rfc3339Nano } from "./time";

export interface AppRoleConfig {
  roleId: string;
  secretId: string;
  tokenTtlSeconds?: number;
}

/** Who is calling, once the token checked out. */
export type Principal = { kind: "root"; token: string } | { kind: "approle"; token: string; record: IssuedToken };

/** The role name every issued token carries in `metadata.role_name`. */
export const APPROLE_ROLE_NAME = "stand-in";
const DEFAULT_TTL_SECONDS = 3600;

/** 403 for a missing token: only ErrPermissionDenied. */
export const permissionDenied = (): Reply => errorReply(403, ["permission denied"]);
/** 403 for an unknown, revoked or expired token. */
export const invalidToken = (): Reply => errorReply(403, [multiError(["permission denied", "invalid token"])]);

/** X-Vault-Token wins over `Authorization: Bearer`, as in http/handler.go. */
export function extractToken(headers: IncomingHttpHeaders): string | null {
  const vaultToken = headers["x-vault-token"];
  if (typeof vaultToken === "string" && vaultToken !== "") return vaultToken;
  const authz = headers.authorization;
  if (typeof authz === "string" && authz.startsWith("Bearer ")) {
    const t = authz.slice("Bearer ".length).trim();
    if (t !== "") return t;
  }
  return null;
}

export class Auth {
  // The root token's accessor and creation time are fixed for the process.
  private readonly rootAccessor = randomToken(24);
  private readonly rootCreated = nowNanos();

  constructor(
    private readonly store: Store,
    private readonly rootToken: string,
    readonly appRole: AppRoleConfig | undefined,
  ) {}

  /** Resolve a token; expired AppRole tokens are dropped and treated as invalid. */
  authenticate(token: string): Principal | null {
    if (token === this.rootToken) return { kind: "root", token };
    const record = this.store.state.tokens[token];
    if (!record) return null;
    if (BigInt(record.expireTime) <= nowNanos()) {
      delete this.store.state.tokens[token];
      this.store.save();
      return null;
    }
    return { kind: "approle", token, record };
  }

  /** POST auth/approle/login. */
  login(data: Record<string, unknown>, requestId: string): Reply {
    const roleId = typeof data.role_id === "string" ? data.role_id.trim() : "";
    if (roleId === "") return errorReply(400, ["missing role_id"]);
    const cfg = this.appRole;
    if (!cfg || !safeEqual(roleId, cfg.roleId)) return errorReply(400, ["invalid role or secret ID"]);
    const secretId = typeof data.secret_id === "string" ? data.secret_id.trim() : "";
    if (secretId === "") return errorReply(400, ["missing secret_id"]);
    if (!safeEqual(secretId, cfg.secretId)) return errorReply(400, ["invalid role or secret ID"]);

    const ttl = cfg.tokenTtlSeconds ?? DEFAULT_TTL_SECONDS;
    const issued = nowNanos();
    const token = `hvs.${randomToken(24)}`;
    const record: IssuedToken = {
      accessor: randomToken(24),
      policies: ["default"],
      ttlSeconds: ttl,
      issueTime: issued.toString(),
      expireTime: (issued + BigInt(ttl) * 1_000_000_000n).toString(),
      entityId: stableUuid(`entity:${cfg.roleId}`),
      roleName: APPROLE_ROLE_NAME,
    };
    this.store.state.tokens[token] = record;
    this.store.save();
    return envelope({
      requestId,
      mountType: "",
      data: null,
      auth: {
        client_token: token,
        accessor: record.accessor,
        policies: record.policies,
        token_policies: record.policies,
        metadata: { role_name: record.roleName },
        lease_duration: ttl,
        renewable: true,
        entity_id: record.entityId,
        token_type: "service",
        orphan: true,
        mfa_requirement: null,
        num_uses: 0,
      },
    });
  }

  /** GET auth/token/lookup-self. */
  lookupSelf(p: Principal, requestId: string): Reply {
    if (p.kind === "root") {
      return envelope({
        requestId,
        mountType: "token",
        data: {
          accessor: this.rootAccessor,
          creation_time: Number(this.rootCreated / 1_000_000_000n),
          creation_ttl: 0,
          display_name: "root",
          entity_id: "",
          expire_time: null,
          explicit_max_ttl: 0,
          id: p.token,
          meta: null,
          num_uses: 0,
          orphan: true,
          path: "auth/token/root",
          policies: ["root"],
          ttl: 0,
          type: "service",
        },
      });
    }
    const r = p.record;
    const issued = BigInt(r.issueTime);
    const remaining = Number((BigInt(r.expireTime) - nowNanos()) / 1_000_000_000n);
    return envelope({
      requestId,
      mountType: "token",
      data: {
        accessor: r.accessor,
        creation_time: Number(issued / 1_000_000_000n),
        creation_ttl: r.ttlSeconds,
        display_name: "approle",
        entity_id: r.entityId,
        expire_time: rfc3339Nano(BigInt(r.expireTime)),
        explicit_max_ttl: 0,
        id: p.token,
        issue_time: rfc3339Nano(issued),
        meta: { role_name: r.roleName },
        num_uses: 0,
        orphan: true,
        path: "auth/approle/login",
        policies: r.policies,
        renewable: true,
        ttl: Math.max(0, remaining),
        type: "service",
      },
    });
  }

  /** Invalidate every AppRole-issued token (the root token stays valid). */
  revokeAppRoleTokens(): number {
    const n = Object.keys(this.store.state.tokens).length;
    this.store.state.tokens = {};
    this.store.save();
    return n;
  }
}

// Vault tokens and accessors are base62-ish; any unguessable string will do.
function randomToken(len: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(len);
  let out = "";
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** A UUID derived from a seed, so the entity id survives restarts. */
function stableUuid(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** Constant-time comparison so the stand-in does not model a timing leak. */
function safeEqual(a: string, b: string): boolean {
  const ha = createHash("sha256").update(a).digest();
  const hb = createHash("sha256").update(b).digest();
  let diff = 0;
  for (let i = 0; i < ha.length; i++) diff |= (ha[i] ?? 0) ^ (hb[i] ?? 0);
  return diff === 0;
}
