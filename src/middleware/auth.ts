import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from "jose";
import { lookupApiKey, touchApiKey } from "../api-keys/api-key-store";
import type { ApiKeyGrant } from "../api-keys/grant";
import { API_KEY_SHAPE, hashApiKey, looksLikeApiKey } from "../api-keys/secret";
import type { Config } from "../config";
import type { AppEnv } from "../env";
import { ApiError, describeError, isOpenAiPath } from "../errors/problem";
import { background } from "../lib/background";
import { LAST_USED_RESOLUTION_MS } from "../lib/last-used";
import { tenantOf } from "../tenant";

/** The verified caller. The tenant comes only from here. */
export interface Principal {
  tenantId: string;
  userId: string;
  roles: string[];
  /** `admin` or `owner`: may write. Members may read metadata. */
  isAdmin: boolean;
  /**
   * Set when the caller authenticated with a tenant API key (`bgk_…`, accepted on /v1 only) instead
   * of a JWT: the key's id and what it may use. `userId` is then `api_key:<id>`, `roles` empty, and
   * every audit row of the request carries `details.api_key_id`.
   */
  apiKey?: ApiKeyGrant;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** A sane `sub`: 1–255 characters, no control characters or lone surrogates (it is stored in audit rows). */
const SUBJECT = /^[^\p{Cc}\p{Cs}]{1,255}$/u;
const ADMIN_ROLES = new Set(["admin", "owner"]);
const REALM = 'Bearer realm="brain-gateway"';

/** Per-isolate: imported HS256 keys and JWKS fetchers (immutable for a given config). */
const hsKeys = new Map<string, Promise<CryptoKey>>();
const jwksSets = new Map<string, JWTVerifyGetKey>();

async function verificationKey(
  jwt: Config["jwt"],
): Promise<{ key: CryptoKey | JWTVerifyGetKey; algorithms: string[] }> {
  // The key and algorithms come from configuration only; the token's header cannot pick them.
  if (jwt.secret) {
    let key = hsKeys.get(jwt.secret);
    if (!key) {
      // Imported once: jose would otherwise import the raw secret on every verification.
      key = crypto.subtle.importKey(
        "raw",
        new TextEncoder().encode(jwt.secret),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["verify"],
      );
      hsKeys.set(jwt.secret, key);
    }
    return { key: await key, algorithms: ["HS256"] };
  }
  let set = jwksSets.get(jwt.jwksUrl!);
  if (!set) {
    set = createRemoteJWKSet(new URL(jwt.jwksUrl!), { timeoutDuration: 3000 });
    jwksSets.set(jwt.jwksUrl!, set);
  }
  return { key: set, algorithms: jwt.algorithms };
}

function unauthorized(detail: string, bearerError?: string): ApiError {
  return new ApiError(bearerError ? "invalid_token" : "unauthenticated", detail, {
    headers: { "WWW-Authenticate": bearerError ? `${REALM}, error="${bearerError}"` : REALM },
  });
}

/** Verifies the bearer JWT (jose) and sets `tenant`: the principal and its tenant's stores. Every failure is one generic 401. */
export const authenticate = () =>
  createMiddleware<AppEnv>(async (c, next) => {
    // Every refusal is logged and recorded as a tenant-less security event (why, never the token).
    const reject = (
      reason: string,
      detail = "The bearer token is invalid or expired.",
      bearerError = "invalid_token",
    ) => {
      c.get("logger").warn("auth.rejected", { reason });
      c.get("audit").security(reason);
      return unauthorized(detail, bearerError);
    };
    const header = c.req.header("authorization");
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(header ?? "");
    if (!match) {
      throw reject(header ? "malformed_header" : "missing_token", "A bearer token is required.", "");
    }
    if (looksLikeApiKey(match[1]!)) {
      const principal = await verifyApiKey(c, match[1]!);
      c.set("tenant", tenantFor(c, principal));
      await next();
      return;
    }
    const { jwt } = c.get("config");
    const principal = verifiedTokens.get(jwt, match[1]!) ?? (await verifyJwt(jwt, match[1]!, reject));
    c.set("tenant", tenantFor(c, principal));
    await next();
  });

/** Verifies a JWT with jose (signature, issuer, audience, times, claims) and reads its principal; throws `reject(reason)`. */
async function verifyJwt(jwt: Config["jwt"], token: string, reject: (reason: string) => ApiError): Promise<Principal> {
  const { key, algorithms } = await verificationKey(jwt);
  let payload: Record<string, unknown>;
  try {
    const verified = await jwtVerify(token, key as CryptoKey, {
      issuer: jwt.issuer,
      audience: jwt.audience,
      algorithms,
      requiredClaims: ["exp", "sub"],
      clockTolerance: jwt.clockToleranceSeconds,
      // Requires `iat`; refuses one in the future (beyond the tolerance) or older than the maximum.
      maxTokenAge: jwt.maxTokenAgeSeconds,
    });
    payload = verified.payload;
  } catch (err) {
    // Which check failed goes to the log and the security event (jose's error code), not to the caller.
    const code = (err as { code?: unknown }).code;
    throw reject(typeof code === "string" ? code : "error");
  }
  const tenantId = payload[jwt.tenantClaim];
  const rolesClaim = payload[jwt.rolesClaim];
  const roles = Array.isArray(rolesClaim)
    ? rolesClaim.filter((r): r is string => typeof r === "string")
    : typeof rolesClaim === "string"
      ? rolesClaim.split(/[\s,]+/).filter(Boolean)
      : [];
  // jose has no lifetime option: maxTokenAge bounds the age, this bounds what the issuer granted.
  const exp = payload.exp as number;
  const iat = payload.iat as number;
  if (exp - iat > jwt.maxTokenAgeSeconds) {
    throw reject("lifetime");
  }
  if (
    typeof tenantId !== "string" ||
    !UUID.test(tenantId) ||
    typeof payload.sub !== "string" ||
    !SUBJECT.test(payload.sub)
  ) {
    throw reject("claims");
  }
  // Frozen: later requests with the same token share it (see verifiedTokens).
  const principal: Principal = Object.freeze({
    tenantId: tenantId.toLowerCase(),
    userId: payload.sub,
    roles: Object.freeze(roles) as string[],
    isAdmin: roles.some((r) => ADMIN_ROLES.has(r)),
  });
  // Accepted until the first of: its expiry, its maximum age (both with the tolerance), a minute from now.
  const tolerance = jwt.clockToleranceSeconds;
  verifiedTokens.set(jwt, token, principal, Math.min(exp + tolerance, iat + jwt.maxTokenAgeSeconds + tolerance) * 1000);
  return principal;
}

/**
 * Per isolate: tokens jose verified, with their principal, so a client sending the same token again
 * (the SDKs do, call after call) is not verified again. An entry is used only while the token would
 * still pass jose's time checks and for at most VERIFIED_TOKEN_TTL_MS (a JWKS key the issuer
 * withdraws stops counting within that time, as jose's own JWKS cache allows); it belongs to the
 * configuration that verified it. Bounded: beyond MAX_VERIFIED_TOKENS the oldest goes first.
 */
const VERIFIED_TOKEN_TTL_MS = 60_000;
const MAX_VERIFIED_TOKENS = 5000;
const verifiedTokens = {
  byConfig: new WeakMap<Config["jwt"], Map<string, { principal: Principal; until: number }>>(),
  get(jwt: Config["jwt"], token: string): Principal | undefined {
    const tokens = this.byConfig.get(jwt);
    const hit = tokens?.get(token);
    if (!hit) return undefined;
    if (Date.now() < hit.until) return hit.principal;
    tokens!.delete(token);
    return undefined;
  },
  set(jwt: Config["jwt"], token: string, principal: Principal, validUntilMs: number): void {
    let tokens = this.byConfig.get(jwt);
    if (!tokens) {
      tokens = new Map();
      this.byConfig.set(jwt, tokens);
    }
    tokens.set(token, { principal, until: Math.min(validUntilMs, Date.now() + VERIFIED_TOKEN_TTL_MS) });
    if (tokens.size > MAX_VERIFIED_TOKENS) tokens.delete(tokens.keys().next().value!);
  },
};

/** The principal's tenant services for this request (record updates off the response's path, the isolate cache's TTL). */
const tenantFor = (c: Context<AppEnv>, principal: Principal) =>
  tenantOf(
    principal,
    c.get("db"),
    c.get("vault"),
    background((p) => c.executionCtx.waitUntil(p), c.get("logger")),
    c.get("config").cacheTtlMs,
  );

const INVALID_API_KEY = "The API key is invalid, expired or revoked.";

/**
 * Verifies a tenant API key: /v1 only, its exact shape, then one read by its SHA-256. The tenant comes
 * only from the row found. Refusals are one 401 `invalid_api_key` (OpenAI-shaped on /v1); unknown
 * and malformed keys become security events, a revoked or expired key a denied row in its tenant's
 * trail. A used key's `last_used_at` is written off the response's path.
 */
async function verifyApiKey(c: Context<AppEnv>, presented: string): Promise<Principal> {
  const logger = c.get("logger");
  const refuse = (reason: string, code: "invalid_api_key" | "api_key_not_accepted", detail: string) => {
    logger.warn("auth.rejected", { reason });
    c.get("audit").security(reason);
    return new ApiError(code, detail, { headers: { "WWW-Authenticate": `${REALM}, error="invalid_token"` } });
  };
  if (!isOpenAiPath(c.req.path)) {
    throw refuse(
      "api_key_wrong_route",
      "api_key_not_accepted",
      "API keys (bgk_…) are accepted on /v1/* only; this route needs a JWT.",
    );
  }
  if (!API_KEY_SHAPE.test(presented)) throw refuse("api_key_malformed", "invalid_api_key", INVALID_API_KEY);
  const db = c.get("db");
  const record = await lookupApiKey(
    db,
    await hashApiKey(presented),
    c.get("config").cacheTtlMs,
    background((p) => c.executionCtx.waitUntil(p), logger),
  );
  if (!record) throw refuse("api_key_unknown", "invalid_api_key", INVALID_API_KEY);
  const principal: Principal = {
    tenantId: record.tenantId,
    userId: `api_key:${record.id}`,
    roles: [],
    isAdmin: false,
    apiKey: {
      id: record.id,
      name: record.name,
      allowedModels: record.allowedModels,
      allowedAgents: record.allowedAgents,
      rateLimitPerMinute: record.rateLimitPerMinute,
    },
  };
  const audit = c.get("audit");
  audit.attributeTo(record.id);
  const now = Date.now();
  const dead =
    record.revokedAt !== null ? "revoked" : record.expiresAt !== null && record.expiresAt <= now ? "expired" : null;
  if (dead) {
    logger.warn("auth.rejected", { reason: `api_key_${dead}`, api_key_id: record.id });
    audit.record({
      tenantId: principal.tenantId,
      userId: principal.userId,
      action: "api_key.use",
      resourceType: "tenant_api_key",
      resourceId: record.id,
      outcome: "denied",
      details: { error: "invalid_api_key", reason: dead, method: c.req.method, path: c.req.path.slice(0, 256) },
    });
    throw new ApiError("invalid_api_key", INVALID_API_KEY, {
      headers: { "WWW-Authenticate": `${REALM}, error="invalid_token"` },
    });
  }
  if (record.lastUsedAt === null || now - record.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
    // The record may be this isolate's cached one: the next requests see the touch and skip it.
    record.lastUsedAt = now;
    c.executionCtx.waitUntil(
      touchApiKey(db, record.id).catch((err) =>
        logger.warn("api_key.touch_failed", { api_key_id: record.id, reason: describeError(err) }),
      ),
    );
  }
  return principal;
}

/**
 * Checks a route's declared role (see `defineRoute`). Without a verified principal (a member or admin
 * route mounted outside the authenticated router) the call is refused, never let through.
 * A member calling an admin route gets 403; the route's audit target records the denial.
 */
export function requireRole(principal: Principal | undefined, role: "member" | "admin"): void {
  if (!principal) throw unauthorized("A bearer token is required.");
  if (role === "admin" && !principal.isAdmin) {
    throw new ApiError("forbidden", "This action requires the admin or owner role.", {
      headers: { "WWW-Authenticate": `${REALM}, error="insufficient_scope"` },
    });
  }
}
