// Tokens (root, AppRole-issued, `auth/token/create`), their policies and TTLs, AppRole roles and
// login, token lookup-self / revoke-self. Messages follow hashicorp/vault
// builtin/credential/approle (path_login.go, path_role.go) and vault/token_store.go; the auth
// object follows sdk/logical HTTPAuth field order.
import { createHash, randomBytes } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { Acl, DEFAULT_POLICY, parsePolicy, type Needed, type PathRule } from "./policy";
import { envelope, errorReply, multiError, noContent, type Reply } from "./respond";
import type { AppRoleRecord, IssuedToken, Space, Store } from "./store";
import { nowNanos, parseDurationSeconds, rfc3339Nano } from "./time";

export interface AppRoleConfig {
  roleId: string;
  secretId: string;
  tokenTtlSeconds?: number;
  /** Policies the role's tokens carry besides `default` (names of policies given to `startVault`). */
  policies?: string[];
}

/** Who is calling, once the token checked out. */
export type Principal = { kind: "root"; token: string } | { kind: "issued"; token: string; record: IssuedToken };

/** The role `startVault({ appRole })` creates. */
export const APPROLE_ROLE_NAME = "stand-in";
/** Vault's system default and max lease TTL (768h) when a role or request sets none. */
const SYSTEM_DEFAULT_TTL_SECONDS = 768 * 3600;

/** 403 for a missing token: only ErrPermissionDenied. */
export const permissionDenied = (): Reply => errorReply(403, ["permission denied"]);
/** 403 for a token whose policies do not allow the request (checkToken appends ErrPermissionDenied). */
export const policyDenied = (): Reply => errorReply(403, [multiError(["permission denied"])]);
/**
 * 403 for an unknown, revoked or expired token. Current Vault says "invalid token" beside
 * "permission denied" (docs/concepts/tokens "Error responses"); older releases sent only the latter.
 */
export const invalidToken = (legacy = false): Reply =>
  legacy
    ? errorReply(403, ["permission denied"])
    : errorReply(403, [multiError(["permission denied", "invalid token"])]);

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

/** Policy names as Vault keeps them: lowercased, trimmed, sorted, unique, `default` added unless told not to. */
export function sanitizePolicies(raw: unknown, addDefault: boolean): string[] | null {
  let list: unknown[];
  if (raw === undefined || raw === null || raw === "") list = [];
  else if (typeof raw === "string") list = raw.split(",");
  else if (Array.isArray(raw)) list = raw;
  else return null;
  const out = new Set<string>();
  for (const p of list) {
    if (typeof p !== "string") return null;
    const name = p.trim().toLowerCase();
    if (name !== "") out.add(name);
  }
  if (out.has("root")) return [...out].sort();
  if (addDefault) out.add("default");
  return [...out].sort();
}

export class Auth {
  // The root token's accessor and creation time are fixed for the process.
  private readonly rootAccessor = randomToken(24);
  private readonly rootCreated = nowNanos();
  /** Answer invalid tokens as Vault before "invalid token" was added: a bare "permission denied". */
  legacyTokenErrors = false;

  constructor(
    private readonly store: Store,
    private readonly rootToken: string,
  ) {}

  /** Resolve a token; expired tokens are dropped and treated as invalid. */
  authenticate(token: string): Principal | null {
    if (token === this.rootToken) return { kind: "root", token };
    const record = this.store.state.tokens[token];
    if (!record) return null;
    if (BigInt(record.expireTime) <= nowNanos()) {
      delete this.store.state.tokens[token];
      this.store.save();
      return null;
    }
    return { kind: "issued", token, record };
  }

  /** The attribution of a principal's writes: display name, and the entity (or a policy-derived id). */
  caller(p: Principal): { actor: string; client_id: string } {
    if (p.kind === "root") return { actor: "root", client_id: stableUuid(`client:root:${this.rootAccessor}`) };
    const r = p.record;
    return {
      actor: r.displayName,
      client_id: r.entityId || stableUuid(`client:${r.namespace}:${r.policies.join(",")}`),
    };
  }

  invalidToken(): Reply {
    return invalidToken(this.legacyTokenErrors);
  }

  /**
   * Whether the principal may do `needed` on `path` in namespace `ns`. Tokens act in their own
   * namespace or below it (the ACL then sees the child namespace as a path prefix, as acl.go does).
   */
  allowed(p: Principal, ns: string, path: string, needed: Needed): boolean | "wrong-namespace" {
    if (p.kind === "root") return true;
    const home = p.record.namespace;
    if (ns !== home && home !== "" && !ns.startsWith(`${home}/`)) return "wrong-namespace";
    if (p.record.policies.includes("root")) return true;
    const space = this.store.space(home);
    if (!space) return false;
    const rel = ns === home ? "" : `${home === "" ? ns : ns.slice(home.length + 1)}/`;
    return aclFor(space, p.record.policies).allows(rel + path, needed);
  }

  /** POST auth/approle/login in `space`. */
  login(space: Space, ns: string, data: Record<string, unknown>, requestId: string): Reply {
    const roleId = typeof data.role_id === "string" ? data.role_id.trim() : "";
    if (roleId === "") return errorReply(400, ["missing role_id"]);
    const found = Object.entries(space.roles).find(([, r]) => safeEqual(roleId, r.roleId));
    if (!found) return errorReply(400, ["invalid role or secret ID"]);
    const [roleName, role] = found;
    const secretId = typeof data.secret_id === "string" ? data.secret_id.trim() : "";
    if (secretId === "") return errorReply(400, ["missing secret_id"]);
    if (!Object.keys(role.secretIds).some((s) => safeEqual(secretId, s))) {
      return errorReply(400, ["invalid role or secret ID"]);
    }
    const policies = sanitizePolicies(role.tokenPolicies, !role.tokenNoDefaultPolicy) ?? ["default"];
    const ttl = capTtl(role.tokenTtlSeconds, role.tokenMaxTtlSeconds);
    const { token, record } = this.issue({
      policies,
      ttl,
      roleName,
      displayName: "approle",
      namespace: ns,
      entityId: stableUuid(`entity:${ns}:${role.roleId}`),
    });
    return authReply(requestId, token, record, { metadata: { role_name: roleName }, renewable: true, orphan: true });
  }

  /** POST auth/token/create: a child token whose policies are a subset of the creator's (unless root). */
  createToken(p: Principal, ns: string, data: Record<string, unknown>, requestId: string): Reply {
    const noDefault = data.no_default_policy === true || data.no_default_policy === "true";
    const asked = sanitizePolicies(data.policies, false);
    if (asked === null) return errorReply(400, ["policies must be a list of strings"]);
    const parentPolicies = p.kind === "root" ? ["root"] : p.record.policies;
    const requested = asked.length === 0 ? parentPolicies.filter((x) => x !== "default") : asked;
    const isRootParent = parentPolicies.includes("root");
    if (!isRootParent) {
      const missing = requested.filter((x) => x !== "default" && !parentPolicies.includes(x));
      if (missing.length > 0) return errorReply(400, ["child policies must be subset of parent"]);
    }
    if (requested.includes("root") && !isRootParent) {
      return errorReply(400, ["root tokens may not be created without parent token being root"]);
    }
    const policies = sanitizePolicies(requested, !noDefault && !requested.includes("root")) ?? [];
    let ttl = SYSTEM_DEFAULT_TTL_SECONDS;
    if (data.ttl !== undefined && data.ttl !== "") {
      const parsed = parseDurationSeconds(data.ttl);
      if (parsed === null || parsed < 0) return errorReply(400, [`error parsing ttl: ${String(data.ttl)}`]);
      if (parsed > 0) ttl = Math.min(parsed, SYSTEM_DEFAULT_TTL_SECONDS);
    }
    if (policies.includes("root") && (data.ttl === undefined || data.ttl === "")) ttl = 0;
    const displayName = typeof data.display_name === "string" && data.display_name !== "" ? data.display_name : "";
    const { token, record } = this.issue({
      policies,
      ttl,
      roleName: null,
      displayName: displayName === "" ? "token" : `token-${displayName}`,
      namespace: ns,
      entityId: "",
    });
    return authReply(requestId, token, record, { metadata: null, renewable: ttl > 0, orphan: false });
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
        display_name: r.displayName,
        entity_id: r.entityId,
        expire_time: r.ttlSeconds > 0 ? rfc3339Nano(BigInt(r.expireTime)) : null,
        explicit_max_ttl: 0,
        id: p.token,
        issue_time: rfc3339Nano(issued),
        meta: r.roleName === null ? null : { role_name: r.roleName },
        ...(r.namespace === "" ? {} : { namespace_path: `${r.namespace}/` }),
        num_uses: 0,
        orphan: r.roleName !== null,
        path: r.roleName === null ? "auth/token/create" : "auth/approle/login",
        policies: r.policies,
        renewable: r.ttlSeconds > 0,
        ttl: r.ttlSeconds > 0 ? Math.max(0, remaining) : 0,
        type: "service",
      },
    });
  }

  /** POST auth/token/revoke-self. */
  revokeSelf(p: Principal): Reply {
    if (p.kind === "issued") {
      delete this.store.state.tokens[p.token];
      this.store.save();
    }
    return noContent();
  }

  /** Invalidate every issued token (the root token stays valid). */
  revokeIssuedTokens(): number {
    const n = Object.keys(this.store.state.tokens).length;
    this.store.state.tokens = {};
    this.store.save();
    return n;
  }

  private issue(o: {
    policies: string[];
    ttl: number;
    roleName: string | null;
    displayName: string;
    namespace: string;
    entityId: string;
  }): { token: string; record: IssuedToken } {
    const issued = nowNanos();
    // A token with TTL 0 (root policy) never expires: park its expiry far away.
    const life = o.ttl > 0 ? BigInt(o.ttl) : 100n * 365n * 86400n;
    const token = `hvs.${randomToken(24)}${o.namespace === "" ? "" : `.${stableUuid(o.namespace).slice(0, 5)}`}`;
    const record: IssuedToken = {
      accessor: randomToken(24),
      policies: o.policies,
      ttlSeconds: o.ttl,
      issueTime: issued.toString(),
      expireTime: (issued + life * 1_000_000_000n).toString(),
      entityId: o.entityId,
      roleName: o.roleName,
      displayName: o.displayName,
      namespace: o.namespace,
    };
    this.store.state.tokens[token] = record;
    this.store.save();
    return { token, record };
  }
}

/** The ACL of a token's policies in its namespace; unknown policy names grant nothing, like Vault. */
/** A login's or token creation's answer: the new token in Vault's `auth` block (logical.Auth). */
function authReply(
  requestId: string,
  token: string,
  record: { accessor: string; policies: string[]; ttlSeconds: number; entityId: string },
  o: { metadata: Record<string, string> | null; renewable: boolean; orphan: boolean },
): Reply {
  return envelope({
    requestId,
    mountType: "",
    data: null,
    auth: {
      client_token: token,
      accessor: record.accessor,
      policies: record.policies,
      token_policies: record.policies,
      metadata: o.metadata,
      lease_duration: record.ttlSeconds,
      renewable: o.renewable,
      entity_id: record.entityId,
      token_type: "service",
      orphan: o.orphan,
      mfa_requirement: null,
      num_uses: 0,
    },
  });
}

function aclFor(space: Space, policies: string[]): Acl {
  const rules: PathRule[] = [];
  for (const name of policies) {
    const text = space.policies[name] ?? (name === "default" ? DEFAULT_POLICY : undefined);
    if (text !== undefined) rules.push(...parsePolicy(text));
  }
  return new Acl(rules);
}

function capTtl(ttl: number, max: number): number {
  let t = ttl > 0 ? ttl : SYSTEM_DEFAULT_TTL_SECONDS;
  if (max > 0) t = Math.min(t, max);
  return Math.min(t, SYSTEM_DEFAULT_TTL_SECONDS);
}

/**
 * `auth/approle/role…` in one namespace: create/read/list/delete roles, read or set the role ID,
 * generate or set secret IDs (path_role.go).
 */
export function approleRoles(
  space: Space,
  save: () => void,
  op: string,
  rest: string,
  data: Record<string, unknown>,
  requestId: string,
): Reply {
  const parts = rest.replace(/\/+$/, "").split("/").filter(Boolean);
  const ok = (d: Record<string, unknown>) => envelope({ requestId, mountType: "approle", data: d });
  if (parts.length === 0) {
    if (op !== "list") return errorReply(405, [multiError(["unsupported operation"])]);
    const keys = Object.keys(space.roles).sort();
    return keys.length === 0 ? errorReply(404) : ok({ keys });
  }
  const name = parts[0]!.toLowerCase();
  const sub = parts.slice(1).join("/");
  const role = space.roles[name];
  if (sub === "") {
    if (op === "read") {
      if (!role) return errorReply(404);
      return ok({
        bind_secret_id: true,
        secret_id_bound_cidrs: null,
        secret_id_num_uses: 0,
        secret_id_ttl: 0,
        token_bound_cidrs: [],
        token_explicit_max_ttl: 0,
        token_max_ttl: role.tokenMaxTtlSeconds,
        token_no_default_policy: role.tokenNoDefaultPolicy,
        token_num_uses: 0,
        token_period: 0,
        token_policies: role.tokenPolicies,
        token_ttl: role.tokenTtlSeconds,
        token_type: "default",
      });
    }
    if (op === "delete") {
      delete space.roles[name];
      save();
      return noContent();
    }
    if (op !== "update") return errorReply(405, [multiError(["unsupported operation"])]);
    const next: AppRoleRecord = role
      ? { ...role }
      : {
          roleId: randomUuid(),
          secretIds: {},
          tokenPolicies: [],
          tokenTtlSeconds: 0,
          tokenMaxTtlSeconds: 0,
          tokenNoDefaultPolicy: false,
        };
    const policiesRaw = data.token_policies ?? data.policies;
    if (policiesRaw !== undefined) {
      const p = sanitizePolicies(policiesRaw, false);
      if (p === null) return errorReply(400, [multiError(['error converting input for field "token_policies"'])]);
      next.tokenPolicies = p;
    }
    for (const [field, key] of [
      ["token_ttl", "tokenTtlSeconds"],
      ["token_max_ttl", "tokenMaxTtlSeconds"],
    ] as const) {
      if (data[field] === undefined) continue;
      const s = parseDurationSeconds(data[field]);
      if (s === null || s < 0) return errorReply(400, [`invalid ${field}`]);
      next[key] = s;
    }
    if (next.tokenMaxTtlSeconds > 0 && next.tokenTtlSeconds > next.tokenMaxTtlSeconds) {
      return errorReply(400, ['"token_ttl" value must be less than "token_max_ttl"']);
    }
    if (data.token_no_default_policy !== undefined) {
      next.tokenNoDefaultPolicy = data.token_no_default_policy === true || data.token_no_default_policy === "true";
    }
    space.roles[name] = next;
    save();
    return noContent();
  }
  if (!role) return errorReply(400, [`role "${name}" does not exist`]);
  if (sub === "role-id") {
    if (op === "read") return ok({ role_id: role.roleId });
    if (op !== "update") return errorReply(405, [multiError(["unsupported operation"])]);
    const id = typeof data.role_id === "string" ? data.role_id.trim() : "";
    if (id === "") return errorReply(400, ["missing role_id"]);
    role.roleId = id;
    save();
    return noContent();
  }
  if (sub === "secret-id" || sub === "custom-secret-id") {
    if (op !== "update") return errorReply(405, [multiError(["unsupported operation"])]);
    const secret = sub === "secret-id" ? randomUuid() : typeof data.secret_id === "string" ? data.secret_id.trim() : "";
    if (secret === "") return errorReply(400, ["missing secret_id"]);
    const accessor = randomUuid();
    role.secretIds[secret] = { accessor, createdTime: nowNanos().toString() };
    save();
    return ok({ secret_id: secret, secret_id_accessor: accessor, secret_id_num_uses: 0, secret_id_ttl: 0 });
  }
  return errorReply(404, [`no handler for route "auth/approle/role/${name}/${sub}". route entry not found.`]);
}

// Vault tokens and accessors are base62-ish; any unguessable string will do.
function randomToken(len: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(len);
  let out = "";
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

function randomUuid(): string {
  return stableUuid(randomBytes(16).toString("hex"));
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
