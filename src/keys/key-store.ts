import { and, eq, isNull, lt, or, sql, type SQL } from "drizzle-orm";
import type { Database } from "../db/client";
import { prepared } from "../db/prepared";
import { connectorConfigs } from "../db/schema";
import { IsolateCache } from "../lib/isolate-cache";
import { LAST_USED_RESOLUTION_MS, UseMarks } from "../lib/last-used";
import type { Background } from "../lib/background";
import type { Verification } from "../llm/types";
import type { VaultClient } from "../vault/client";
import { VaultError } from "../vault/http";
import { keyPath, keysFolder, SERVICE_NAME } from "../vault/paths";
import { isStorableText, storableEntries } from "../lib/text";
import type { VerifyResult } from "./verify";

/** The masked form shown to people: the last four characters. */
export function keyHint(apiKey: string): string {
  return `****${apiKey.slice(-4)}`;
}

/** What Vault holds at a key's path. `api_key` never leaves this module except through `useKey`. */
interface StoredSecret {
  api_key: string;
  /** A credential's readable fields besides the key (Azure OpenAI: endpoint, deployment, api_version). */
  settings?: Record<string, string>;
  created_at: string;
  created_by: string;
  key_hint: string;
  metadata: Record<string, unknown>;
  /** When the tenant says the provider key stops working (ISO 8601); absent or null: no date. */
  expires_at?: string | null;
}

export interface KeyInfo {
  service: string;
  has_key: true;
  created_at: string;
  created_by: string | null;
  updated_at: string;
  version: number;
  key_hint: string | null;
  /** The credential's readable fields besides the key; null for a key that is the whole credential. */
  settings: Record<string, string> | null;
  metadata: Record<string, unknown>;
  /** What the provider last said of the current version; null: not checked since it was stored. */
  verification: Verification | null;
  /** The version that verdict is about (the current one), or null. */
  verified_version: number | null;
  last_verified_at: string | null;
  /** When chat, embeddings or /v1 last used the key (any version). */
  last_used_at: string | null;
  expires_at: string | null;
  /** Not expired yet, but within EXPIRING_SOON_DAYS of its expiry. */
  expiring_soon: boolean;
  /** Past its expiry: refused for use until replaced. */
  expired: boolean;
}

/** The list marks keys that expire within this many days (`expiring_soon`). */
export const EXPIRING_SOON_DAYS = 14;

/** A key read for a provider call or a check. */
export interface UsableKey {
  apiKey: string;
  /** The credential's readable fields besides the key ({} for a key that is the whole credential). */
  settings: Record<string, string>;
  version: number;
  /** The date the tenant set when storing it, or null. */
  expiresAt: Date | null;
}

type Row = typeof connectorConfigs.$inferSelect;

/**
 * Longer than any store or delete can take (DATABASE_TIMEOUT_MS ≤ 60 s per call, VAULT_TIMEOUT_MS ≤ 30 s):
 * a pending mark older than this belongs to a writer that died, and a repair may clear it.
 */
const PENDING_LEASE_SECONDS = 180;

/**
 * Records a list repairs from Vault at most: one Vault read each, plus one database call for all,
 * so a list stays within Workers' 50 subrequests (free plan) however many records are in doubt.
 * The rest are repaired by the next lists.
 */
export const MAX_REPAIRS_PER_LIST = 40;

/** Vault reads in flight at once during a repair (Workers open at most 6 connections per request). */
const REPAIR_CONCURRENCY = 6;

const cc = connectorConfigs;

/**
 * Provider keys a hot isolate read from Vault (by tenant and service), so a call does not wait on
 * Vault (a region away) again within CACHE_TTL_MS. Bounded: a few hundred bytes per entry.
 */
const usableKeys = new IsolateCache<UsableKey>(1000);
/** Per isolate: when each tenant's key was last marked used (`last_used_at` is written at most once a minute). */
const useMarks = new UseMarks();

/**
 * A tenant's provider keys. Vault is the source of truth for keys and versions;
 * `connector_configs` is the record used for listing and metadata.
 *
 * Consistency, with any number of concurrent writers:
 * - every store or delete counts itself in (`pending_writes` + 1) before touching Vault and out
 *   when done, so one writer's end never clears another's mark;
 * - the record moves only forward: a result is applied only if its version is newer than the
 *   record's, so replies arriving out of order cannot leave an older version "synced";
 * - a write whose Vault reply is lost (timeout, 5xx) may have applied: its mark stays, and the
 *   next read or list repairs the record from Vault;
 * - a list trusts only records with no write in flight that Vault lists; the rest it repairs.
 */
export class KeyStore {
  constructor(
    private readonly db: Database,
    private readonly vault: VaultClient,
    private readonly tenantId: string,
    /** Where record updates nobody waits for go (last use, rejection during use). */
    private readonly background: Background,
    /** How long `useKey` may answer from this isolate's cache (0: always from Vault). */
    private readonly cacheTtlMs = 0,
  ) {}

  pathOf(service: string): string {
    return keyPath(this.tenantId, service);
  }

  /** Stores (or rotates) a key. `expectedVersion` makes it a compare-and-set. */
  async store(input: {
    service: string;
    apiKey: string;
    /** Readable fields besides the key, already checked by the provider (empty: none). */
    settings?: Record<string, string>;
    metadata: Record<string, unknown>;
    userId: string;
    expectedVersion?: number | undefined;
    /** When the provider key stops working, if the tenant knows. */
    expiresAt?: Date | undefined;
    /** The provider's verdict on this key, asked before storing it. */
    check?: VerifyResult | undefined;
  }): Promise<{ version: number; keyHint: string; created: boolean }> {
    const path = this.pathOf(input.service);
    const hint = keyHint(input.apiKey);
    const settings = input.settings && Object.keys(input.settings).length > 0 ? input.settings : null;
    await this.markPending(input.service, path);
    let version: number;
    try {
      const secret: StoredSecret = {
        api_key: input.apiKey,
        ...(settings ? { settings } : {}),
        created_at: new Date().toISOString(),
        created_by: input.userId,
        key_hint: hint,
        metadata: input.metadata,
        ...(input.expiresAt ? { expires_at: input.expiresAt.toISOString() } : {}),
      };
      ({ version } = await this.vault.write(path, { ...secret }, input.expectedVersion));
    } catch (err) {
      // Only a write Vault answered with an error ends the mark here. Without an answer (a timeout, a
      // cut connection) the write may have applied: the mark stays, and the next read or list repairs.
      if (refused(err)) {
        await this.endPending(input.service).catch(() => {}); // a stale mark only costs one repair
      }
      throw err;
    } finally {
      // Once Vault has (or may have) the new key, this isolate stops serving the old one, including a
      // read that was in flight meanwhile; other isolates within CACHE_TTL_MS.
      usableKeys.evict(this.tenantId, input.service);
    }
    const newer = sql`(${cc.vault_version} is null or ${cc.vault_version} < ${version}::int)`;
    const ifNewer = (value: SQL, column: SQL | typeof cc.is_active) =>
      sql`case when ${newer} then ${value} else ${column} end`;
    const now = new Date().toISOString();
    await this.db
      .update(cc)
      .set({
        is_active: ifNewer(sql`true`, cc.is_active),
        key_hint: ifNewer(sql`${hint}::text`, sql`${cc.key_hint}`),
        settings: ifNewer(sql`${settings ? JSON.stringify(settings) : null}::jsonb`, sql`${cc.settings}`),
        vault_version: ifNewer(sql`${version}::int`, sql`${cc.vault_version}`),
        metadata: ifNewer(sql`${JSON.stringify(input.metadata)}::jsonb`, sql`${cc.metadata}`),
        // Each version has its own expiry (none unless given); a verdict is about the version checked.
        expires_at: ifNewer(sql`${input.expiresAt?.toISOString() ?? null}::timestamptz`, sql`${cc.expires_at}`),
        ...(input.check
          ? {
              verification: ifNewer(sql`${input.check.verification}::text`, sql`${cc.verification}`),
              verified_version: ifNewer(sql`${version}::int`, sql`${cc.verified_version}`),
              last_verified_at: ifNewer(
                sql`${input.check.checkedAt.toISOString()}::timestamptz`,
                sql`${cc.last_verified_at}`,
              ),
            }
          : {}),
        // The first version's author and time are the key's creation; rotations keep them.
        ...(version === 1
          ? {
              created_by: ifNewer(sql`${input.userId}::text`, sql`${cc.created_by}`),
              created_at: ifNewer(sql`${now}::timestamptz`, sql`${cc.created_at}`),
            }
          : {}),
        last_synced_at: ifNewer(sql`${now}::timestamptz`, sql`${cc.last_synced_at}`),
        ...endPendingSet(),
      })
      .where(this.rowWhere(input.service));
    return { version, keyHint: hint, created: version === 1 };
  }

  /** The key's metadata, or null when there is none. Never the key. */
  async info(service: string): Promise<KeyInfo | null> {
    const path = this.pathOf(service);
    const [meta, row] = await Promise.all([this.vault.metadata(path), this.row(service)]);
    if (!meta || !liveVersion(meta)) {
      if (row?.is_active || (row && row.pending_writes > 0)) await this.reconcile(service);
      return null;
    }
    let record: Row | null | undefined = row;
    if (!record?.is_active || record.pending_writes > 0 || record.vault_version !== meta.current_version) {
      record = await this.reconcile(service);
      if (!record) return null;
    }
    return toInfo(record);
  }

  /**
   * Every stored key. Records with a write in flight, or that disagree with Vault's listing, are
   * repaired from Vault first (at most MAX_REPAIRS_PER_LIST per list; beyond that an active record
   * is shown as it stands and repaired by a later list).
   */
  async list(): Promise<KeyInfo[]> {
    const [names, rows] = await Promise.all([
      this.vault.list(keysFolder(this.tenantId)),
      // connector_configs also holds content connectors (WordPress, Shopify); only key rows are keys.
      this.db
        .select()
        .from(cc)
        .where(and(eq(cc.tenant_id, this.tenantId), eq(cc.connector_type, "llm_api_key"))),
    ]);
    const inVault = new Set(names.filter((n) => SERVICE_NAME.test(n)));
    const byService = new Map(rows.map((r) => [r.connector_id, r]));
    const services = [
      ...new Set([...inVault, ...rows.filter((r) => r.is_active || r.pending_writes > 0).map((r) => r.connector_id)]),
    ].sort();
    const trusted = (service: string) => {
      const row = byService.get(service);
      return !!row && inVault.has(service) && row.is_active && row.pending_writes === 0;
    };
    // Oldest doubt first, so that successive lists work through a large backlog.
    const doubted = services
      .filter((s) => !trusted(s))
      .sort((a, b) => doubtSince(byService.get(a)) - doubtSince(byService.get(b)))
      .slice(0, MAX_REPAIRS_PER_LIST);
    const repaired = await this.repair(doubted);
    const items: KeyInfo[] = [];
    for (const service of services) {
      const row = repaired.has(service) ? repaired.get(service) : byService.get(service);
      if (row?.is_active && (repaired.has(service) || inVault.has(service))) items.push(toInfo(row));
    }
    return items;
  }

  /** Deletes every version; false when there was no key. */
  async remove(service: string): Promise<boolean> {
    const path = this.pathOf(service);
    const [meta, row] = await Promise.all([this.vault.metadata(path), this.row(service)]);
    if (!meta && !row?.is_active) return false;
    if (row) await this.markPending(service, path);
    try {
      await this.vault.destroyAll(path);
    } catch (err) {
      if (row && refused(err)) {
        await this.endPending(service).catch(() => {});
      }
      throw err;
    } finally {
      usableKeys.evict(this.tenantId, service);
    }
    if (row) {
      await this.db
        .update(cc)
        .set({
          is_active: false,
          key_hint: null,
          settings: null,
          vault_version: null,
          last_synced_at: new Date(),
          ...endPendingSet(),
        })
        .where(this.rowWhere(service));
    }
    return !!meta;
  }

  /**
   * Reads the key (and its settings) for a provider call (only chat and embedding code call this), with its expiry
   * (kept in Vault beside it, so a call needs no database read); from this isolate's cache when it
   * read it less than CACHE_TTL_MS ago.
   */
  async useKey(service: string): Promise<UsableKey | null> {
    return await usableKeys.load(
      this.tenantId,
      service,
      this.cacheTtlMs,
      () => this.currentKey(service),
      this.background,
    );
  }

  /** Reads the key as Vault holds it now, never from the cache (a key check asks about the stored key). */
  async currentKey(service: string): Promise<UsableKey | null> {
    const secret = await this.vault.read<StoredSecret>(this.pathOf(service));
    if (!secret || typeof secret.data.api_key !== "string") return null;
    return {
      apiKey: secret.data.api_key,
      settings: settingsOf(secret.data) ?? {},
      version: secret.metadata.version,
      expiresAt: dateOrNull(secret.data.expires_at),
    };
  }

  /**
   * Keeps the provider's verdict on `version` with its time. Dropped when it is no longer news: a
   * newer version was stored meanwhile (the verdict is not the current key's), or a later check of
   * this version was recorded first. True when it was kept.
   */
  async recordCheck(service: string, version: number, result: Pick<VerifyResult, "verification" | "checkedAt">) {
    const rows = await this.db
      .update(cc)
      .set({ verification: result.verification, verified_version: version, last_verified_at: result.checkedAt })
      .where(
        and(
          this.rowWhere(service),
          sql`(${cc.vault_version} is null or ${cc.vault_version} <= ${version}::int)`,
          sql`(${cc.verified_version} is null or ${cc.verified_version} < ${version}::int
               or ${cc.last_verified_at} is null or ${cc.last_verified_at} <= ${result.checkedAt.toISOString()}::timestamptz)`,
        ),
      )
      .returning({ id: cc.id });
    return rows.length > 0;
  }

  /**
   * Records, off the response's path, that `version` was used for a provider call: `last_used_at`,
   * and when the provider refused it (401/403) the verdict `rejected`, so the page can say so.
   */
  noteUse(service: string, version: number, outcome: { rejected: boolean }): void {
    const now = new Date();
    // A rejected key is not served from this isolate's cache again: the next call reads Vault, so a
    // replacement written elsewhere (another isolate, Vault itself) is used at once, not after the TTL.
    if (outcome.rejected) usableKeys.evict(this.tenantId, service);
    // The hot path writes no record on most calls: last_used_at is accurate to LAST_USED_RESOLUTION_MS.
    const due = useMarks.due(`${this.tenantId}\u0000${service}`, now.getTime());
    if (!due && !outcome.rejected) return;
    this.background(
      "key.note_use",
      (async () => {
        if (due) {
          const stale = new Date(now.getTime() - LAST_USED_RESOLUTION_MS);
          await this.db
            .update(cc)
            .set({ last_used_at: now })
            .where(and(this.rowWhere(service), or(isNull(cc.last_used_at), lt(cc.last_used_at, stale))));
        }
        if (outcome.rejected) await this.recordCheck(service, version, { verification: "rejected", checkedAt: now });
      })(),
    );
  }

  /** Makes one record match Vault. */
  private async reconcile(service: string): Promise<Row | null> {
    return (await this.repair([service])).get(service) ?? null;
  }

  /**
   * Makes records match Vault: one Vault read per service, then one database call for all.
   * Never moves a record's version backwards (a writer may have recorded a newer one since the
   * read), and clears a pending mark only once its lease has run out.
   */
  private async repair(services: string[]): Promise<Map<string, Row | null>> {
    const out = new Map<string, Row | null>();
    if (services.length === 0) return out;
    const secrets = await mapLimit(services, REPAIR_CONCURRENCY, (s) => this.vault.read<StoredSecret>(this.pathOf(s)));
    const expired = sql`(${cc.pending_since} is null or ${cc.pending_since} < now() - make_interval(secs => ${PENDING_LEASE_SECONDS}))`;
    const pending = {
      pending_writes: sql`case when ${expired} then 0 else ${cc.pending_writes} end`,
      sync_status: sql`case when ${expired} or ${cc.pending_writes} = 0 then 'synced' else 'pending' end`,
    };
    const statements = services.map((service, i) => {
      const secret = secrets[i];
      if (!secret) {
        return this.db
          .update(cc)
          .set({
            is_active: false,
            key_hint: null,
            settings: null,
            vault_version: null,
            last_synced_at: new Date(),
            ...pending,
          })
          .where(this.rowWhere(service))
          .returning();
      }
      // Vault may hold what Postgres cannot (U+0000, lone surrogates: written before the API refused them, or
      // by another client); such fields are left out of the record rather than failing every list of the tenant.
      const text = (s: unknown) => (typeof s === "string" && isStorableText(s) ? s : null);
      const version = secret.metadata.version;
      // When the current version was written, so `updated_at` means the same after a repair.
      const writtenAt = new Date(secret.metadata.created_time);
      const values = {
        vault_path: this.pathOf(service),
        is_active: true,
        key_hint: text(secret.data.key_hint),
        settings: settingsOf(secret.data),
        vault_version: version,
        metadata: storableEntries(secret.data.metadata ?? {}),
        expires_at: dateOrNull(secret.data.expires_at),
        last_synced_at: writtenAt,
      };
      const newer = sql`(${cc.vault_version} is null or ${cc.vault_version} <= ${version}::int)`;
      const ifNewer = (value: SQL, column: unknown) => sql`case when ${newer} then ${value} else ${column} end`;
      return this.db
        .insert(cc)
        .values({
          tenant_id: this.tenantId,
          connector_id: service,
          created_by: text(secret.data.created_by),
          ...values,
        })
        .onConflictDoUpdate({
          target: [cc.tenant_id, cc.connector_id],
          set: {
            vault_path: values.vault_path,
            is_active: ifNewer(sql`true`, cc.is_active),
            key_hint: ifNewer(sql`${values.key_hint}::text`, cc.key_hint),
            settings: ifNewer(sql`${values.settings ? JSON.stringify(values.settings) : null}::jsonb`, cc.settings),
            vault_version: ifNewer(sql`${version}::int`, cc.vault_version),
            metadata: ifNewer(sql`${JSON.stringify(values.metadata)}::jsonb`, cc.metadata),
            expires_at: ifNewer(sql`${values.expires_at?.toISOString() ?? null}::timestamptz`, cc.expires_at),
            last_synced_at: ifNewer(sql`${writtenAt.toISOString()}::timestamptz`, cc.last_synced_at),
            created_by: sql`coalesce(${cc.created_by}, excluded.created_by)`,
            ...pending,
          },
        })
        .returning();
    });
    const [first, ...rest] = statements;
    const results = await this.db.batch([first!, ...rest]);
    services.forEach((service, i) => {
      const row = (results[i] as Row[])[0];
      out.set(service, row?.is_active ? row : null);
    });
    return out;
  }

  private async row(service: string): Promise<Row | undefined> {
    const query = prepared(this.db, "connector_row", (db) =>
      db
        .select()
        .from(connectorConfigs)
        .where(
          and(
            eq(connectorConfigs.tenant_id, sql.placeholder("tenant")),
            eq(connectorConfigs.connector_id, sql.placeholder("service")),
          ),
        )
        .limit(1)
        .prepare("connector_row"),
    );
    const [row] = await query.execute({ tenant: this.tenantId, service });
    return row;
  }

  /** Counts a writer in: the record is in doubt until every writer has counted itself out. */
  private async markPending(service: string, path: string): Promise<void> {
    await this.db
      .insert(cc)
      .values({
        tenant_id: this.tenantId,
        connector_id: service,
        vault_path: path,
        is_active: false,
        sync_status: "pending",
        pending_writes: 1,
        pending_since: sql`now()`,
      })
      .onConflictDoUpdate({
        target: [cc.tenant_id, cc.connector_id],
        set: {
          sync_status: "pending",
          vault_path: path,
          pending_writes: sql`${cc.pending_writes} + 1`,
          pending_since: sql`now()`,
        },
      });
  }

  /** Counts a writer out whose Vault call surely did not apply. */
  private async endPending(service: string): Promise<void> {
    await this.db.update(cc).set(endPendingSet()).where(this.rowWhere(service));
  }

  private rowWhere(service: string) {
    return and(eq(connectorConfigs.tenant_id, this.tenantId), eq(connectorConfigs.connector_id, service));
  }
}

/** A record in the API's shape: created_at = first version stored, updated_at = current version stored. */
function toInfo(row: Row, now = Date.now()): KeyInfo {
  // A verdict belongs to the version it was made on: a rotated key is unchecked until checked again.
  const checked = row.verified_version !== null && row.verified_version === row.vault_version;
  const expiresAt = row.expires_at?.getTime() ?? null;
  return {
    service: row.connector_id,
    has_key: true,
    created_at: row.created_at.toISOString(),
    created_by: row.created_by,
    updated_at: (row.last_synced_at ?? row.updated_at).toISOString(),
    version: row.vault_version ?? 0,
    key_hint: row.key_hint,
    settings: row.settings,
    metadata: row.metadata,
    verification: checked ? asVerification(row.verification) : null,
    verified_version: checked ? row.verified_version : null,
    last_verified_at: checked ? (row.last_verified_at?.toISOString() ?? null) : null,
    last_used_at: row.last_used_at?.toISOString() ?? null,
    expires_at: row.expires_at?.toISOString() ?? null,
    expiring_soon: expiresAt !== null && expiresAt > now && expiresAt - now <= EXPIRING_SOON_DAYS * 86_400_000,
    expired: expiresAt !== null && expiresAt <= now,
  };
}

const VERIFICATIONS: readonly string[] = ["valid", "rejected", "unknown"] satisfies Verification[];
const asVerification = (v: string | null): Verification | null =>
  v !== null && VERIFICATIONS.includes(v) ? (v as Verification) : null;

/** A stored ISO time, or null when absent or unreadable. */
function dateOrNull(value: unknown): Date | null {
  if (typeof value !== "string") return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * The readable settings Vault holds with a key: string values Postgres can store, or null when
 * there are none (a key that is the whole credential, or a secret written by another client).
 */
function settingsOf(secret: Partial<StoredSecret>): Record<string, string> | null {
  const s = secret.settings;
  if (!s || typeof s !== "object" || Array.isArray(s)) return null;
  const entries = Object.entries(s).filter(
    (e): e is [string, string] => typeof e[1] === "string" && isStorableText(e[0]) && isStorableText(e[1]),
  );
  return entries.length > 0 ? Object.fromEntries(entries) : null;
}

/**
 * Whether the current version can be read. `deletion_time` alone does not mean deleted: with
 * `delete_version_after` set (mount or key), Vault stamps a future deletion time on every live
 * version and serves it until then. Deleted = destroyed, or a deletion time at or before now.
 */
function liveVersion(
  meta: {
    current_version: number;
    versions?: Record<string, { deletion_time: string; destroyed: boolean }>;
  },
  now = Date.now(),
): boolean {
  const v = meta.versions?.[String(meta.current_version)];
  if (meta.current_version <= 0) return false;
  if (!v) return true;
  if (v.destroyed) return false;
  if (!v.deletion_time) return true;
  const at = Date.parse(v.deletion_time);
  // An unparseable time is treated as deleted: the read path (404 from Vault) is the final word anyway.
  return Number.isFinite(at) && at > now;
}

/** Vault answered with an error status: the call surely did not apply (unlike a timeout, status 0). */
function refused(err: unknown): boolean {
  return err instanceof VaultError && err.status >= 300;
}

/** One writer counted out; the record is synced again only when none is left. */
function endPendingSet() {
  return {
    pending_writes: sql`greatest(${cc.pending_writes} - 1, 0)`,
    sync_status: sql`case when ${cc.pending_writes} > 1 then 'pending' else 'synced' end`,
  };
}

/** How long a record has been in doubt (its oldest possible cause), for repair order; absent rows first. */
function doubtSince(row: Row | undefined): number {
  return row ? (row.pending_since ?? row.updated_at).getTime() : 0;
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
