import { and, desc, eq, isNull, lt, or, sql } from "drizzle-orm";
import { uuidv7 } from "uuidv7";
import type { Database } from "../db/client";
import { apiKeys } from "../db/schema";
import type { Background } from "../lib/background";
import { IsolateCache } from "../lib/isolate-cache";
import { LAST_USED_RESOLUTION_MS } from "../lib/last-used";
import { generateApiKey, hashApiKey, hintOf } from "./secret";

type Row = typeof apiKeys.$inferSelect;

/** What an admin sets when creating a key. */
export interface ApiKeyFields {
  name: string;
  expires_at: Date | null;
  allowed_models: string[] | null;
  allowed_agents: string[] | null;
  rate_limit_per_minute: number | null;
}

/** A key as lists show it: never the key or its hash. */
export interface ApiKeyInfo {
  id: string;
  name: string;
  key_hint: string;
  status: "active" | "expired" | "revoked";
  allowed_models: string[] | null;
  allowed_agents: string[] | null;
  rate_limit_per_minute: number | null;
  expires_at: string | null;
  last_used_at: string | null;
  created_at: string;
  created_by: string | null;
  revoked_at: string | null;
  revoked_by: string | null;
}

const iso = (d: Date | null) => d?.toISOString() ?? null;

function toInfo(r: Row, now = Date.now()): ApiKeyInfo {
  return {
    id: r.id,
    name: r.name,
    key_hint: r.key_hint,
    status: r.revoked_at ? "revoked" : r.expires_at && r.expires_at.getTime() <= now ? "expired" : "active",
    allowed_models: r.allowed_models,
    allowed_agents: r.allowed_agents,
    rate_limit_per_minute: r.rate_limit_per_minute,
    expires_at: iso(r.expires_at),
    last_used_at: iso(r.last_used_at),
    created_at: r.created_at.toISOString(),
    created_by: r.created_by,
    revoked_at: iso(r.revoked_at),
    revoked_by: r.revoked_by,
  };
}

/** A tenant's API keys. Every statement is filtered by tenant_id. */
export class ApiKeyStore {
  constructor(
    private readonly db: Database,
    private readonly tenantId: string,
  ) {}

  /** Creates a key; the key itself is in the result only, never stored (its SHA-256 is). */
  async create(fields: ApiKeyFields, userId: string): Promise<{ key: string; info: ApiKeyInfo }> {
    const key = generateApiKey();
    const [row] = await this.db
      .insert(apiKeys)
      .values({
        id: uuidv7(),
        tenant_id: this.tenantId,
        key_hash: await hashApiKey(key),
        key_hint: hintOf(key),
        created_by: userId,
        ...fields,
      })
      .returning();
    return { key, info: toInfo(row!) };
  }

  /** Newest first; `after` continues from the last id seen (ids are UUIDv7, so they sort by creation). */
  async list(limit: number, after?: string): Promise<{ items: ApiKeyInfo[]; next: string | null }> {
    const rows = await this.db
      .select()
      .from(apiKeys)
      .where(and(eq(apiKeys.tenant_id, this.tenantId), after ? lt(apiKeys.id, after) : undefined))
      .orderBy(desc(apiKeys.id))
      .limit(limit + 1);
    const items = rows.slice(0, limit).map((r) => toInfo(r));
    return { items, next: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
  }

  async get(id: string): Promise<ApiKeyInfo | null> {
    const [row] = await this.db.select().from(apiKeys).where(this.where(id)).limit(1);
    return row ? toInfo(row) : null;
  }

  /**
   * Revokes the key: its next request is refused. Revoking a revoked key changes nothing (the first
   * revocation's time and author stay). Null when the tenant has no such key. `keyHash` is what a
   * per-isolate lookup cache is keyed by, to evict it.
   */
  async revoke(id: string, userId: string): Promise<{ info: ApiKeyInfo; keyHash: string; changed: boolean } | null> {
    const [updated] = await this.db
      .update(apiKeys)
      .set({ revoked_at: sql`now()`, revoked_by: userId })
      .where(and(this.where(id), isNull(apiKeys.revoked_at)))
      .returning();
    // The key is refused from its next request on through this isolate; other isolates within CACHE_TTL_MS.
    if (updated) forgetApiKey(updated.key_hash);
    if (updated) return { info: toInfo(updated), keyHash: updated.key_hash, changed: true };
    const [row] = await this.db.select().from(apiKeys).where(this.where(id)).limit(1);
    return row ? { info: toInfo(row), keyHash: row.key_hash, changed: false } : null;
  }

  private where(id: string) {
    return and(eq(apiKeys.tenant_id, this.tenantId), eq(apiKeys.id, id));
  }
}

/** What a request needs of a key, found by its hash (the tenant comes from here). */
export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  allowedModels: string[] | null;
  allowedAgents: string[] | null;
  rateLimitPerMinute: number | null;
  /** Epoch ms, or null. */
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

/**
 * The one lookup of a presented key: one indexed read by its hash. Kept a single function so a
 * per-isolate cache can wrap it (keyed by the hash; `ApiKeyStore.revoke` returns the hash to evict).
 * Expiry and revocation are checked by the caller on the record, so a cached record still expires on time.
 */
export async function findApiKeyByHash(db: Database, keyHash: string): Promise<ApiKeyRecord | null> {
  const [r] = await db
    .select({
      id: apiKeys.id,
      tenantId: apiKeys.tenant_id,
      name: apiKeys.name,
      allowedModels: apiKeys.allowed_models,
      allowedAgents: apiKeys.allowed_agents,
      rateLimitPerMinute: apiKeys.rate_limit_per_minute,
      expiresAt: apiKeys.expires_at,
      revokedAt: apiKeys.revoked_at,
      lastUsedAt: apiKeys.last_used_at,
    })
    .from(apiKeys)
    .where(eq(apiKeys.key_hash, keyHash))
    .limit(1);
  if (!r) return null;
  return {
    ...r,
    expiresAt: r.expiresAt?.getTime() ?? null,
    revokedAt: r.revokedAt?.getTime() ?? null,
    lastUsedAt: r.lastUsedAt?.getTime() ?? null,
  };
}

/**
 * Records of presented keys this isolate looked up, by hash (scope and key: a hash is one key of one
 * tenant), so a hot isolate does not read the database before every call. A few hundred bytes each.
 */
const lookedUp = new IsolateCache<ApiKeyRecord>(1000);

/**
 * `findApiKeyByHash` through this isolate's cache (kept `ttlMs`, CACHE_TTL_MS). The record is checked
 * for expiry and revocation by the caller on every request, so a cached key still expires on time;
 * a revocation made through another isolate is honoured here within `ttlMs`.
 */
export async function lookupApiKey(
  db: Database,
  keyHash: string,
  ttlMs: number,
  refresh?: Background,
): Promise<ApiKeyRecord | null> {
  return await lookedUp.load(keyHash, "api_key", ttlMs, () => findApiKeyByHash(db, keyHash), refresh);
}

/** Forgets a key's cached record (revoked through this isolate). */
export function forgetApiKey(keyHash: string): void {
  lookedUp.evict(keyHash, "api_key");
}

/** Marks the key used now, unless it was within LAST_USED_RESOLUTION_MS (the condition also holds against racing writers). */
export async function touchApiKey(db: Database, id: string): Promise<void> {
  await db
    .update(apiKeys)
    .set({ last_used_at: sql`now()` })
    .where(
      and(
        eq(apiKeys.id, id),
        or(
          isNull(apiKeys.last_used_at),
          lt(apiKeys.last_used_at, sql`now() - make_interval(secs => ${LAST_USED_RESOLUTION_MS / 1000})`),
        ),
      ),
    );
}
