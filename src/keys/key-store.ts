import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../db/client";
import { prepared } from "../db/prepared";
import { connectorConfigs } from "../db/schema";
import type { VaultClient } from "../vault/client";
import { keyPath, keysFolder, SERVICE_NAME } from "../vault/paths";
import { isStorableText, storableEntries } from "../lib/text";
import { keyHint } from "./providers";

/** What Vault holds at a key's path. `api_key` never leaves this module except through `useKey`. */
interface StoredSecret {
  api_key: string;
  created_at: string;
  created_by: string;
  key_hint: string;
  metadata: Record<string, unknown>;
}

export interface KeyInfo {
  service: string;
  has_key: true;
  created_at: string;
  created_by: string | null;
  updated_at: string;
  version: number;
  key_hint: string | null;
  metadata: Record<string, unknown>;
}

type Row = typeof connectorConfigs.$inferSelect;

/**
 * A tenant's provider keys. Vault is the source of truth for keys and versions;
 * `connector_configs` is the record used for listing and metadata.
 *
 * Consistency: every write first marks the row `sync_status = 'pending'`, then
 * writes Vault, then records the result as `synced`. If the process or the
 * database fails between the steps, the row stays `pending` and the next read or
 * list reconciles it from Vault — the two never disagree past the next read.
 * A Vault failure leaves Vault unchanged, and the pending mark is cleared.
 */
export class KeyStore {
  constructor(
    private readonly db: Database,
    private readonly vault: VaultClient,
    private readonly tenantId: string,
  ) {}

  pathOf(service: string): string {
    return keyPath(this.tenantId, service);
  }

  /** Stores (or rotates) a key. `expectedVersion` makes it a compare-and-set. */
  async store(input: {
    service: string;
    apiKey: string;
    metadata: Record<string, unknown>;
    userId: string;
    expectedVersion?: number | undefined;
  }): Promise<{ version: number; keyHint: string; created: boolean }> {
    const path = this.pathOf(input.service);
    const hint = keyHint(input.apiKey);
    await this.markPending(input.service, path);
    let version: number;
    try {
      const secret: StoredSecret = {
        api_key: input.apiKey,
        created_at: new Date().toISOString(),
        created_by: input.userId,
        key_hint: hint,
        metadata: input.metadata,
      };
      ({ version } = await this.vault.write(path, { ...secret }, input.expectedVersion));
    } catch (err) {
      await this.clearPending(input.service).catch(() => {}); // a stale mark only costs one reconcile
      throw err;
    }
    await this.db
      .update(connectorConfigs)
      .set({
        is_active: true,
        key_hint: hint,
        vault_version: version,
        metadata: input.metadata,
        // The first version's author and time are the key's creation; rotations keep them.
        ...(version === 1 ? { created_by: input.userId, created_at: new Date() } : {}),
        sync_status: "synced",
        last_synced_at: new Date(),
      })
      .where(this.rowWhere(input.service));
    return { version, keyHint: hint, created: version === 1 };
  }

  /** The key's metadata, or null when there is none. Never the key. */
  async info(service: string): Promise<KeyInfo | null> {
    const path = this.pathOf(service);
    const [meta, row] = await Promise.all([this.vault.metadata(path), this.row(service)]);
    if (!meta || !liveVersion(meta)) {
      if (row?.is_active || row?.sync_status === "pending") await this.reconcile(service);
      return null;
    }
    let record: Row | null | undefined = row;
    if (!record?.is_active || record.sync_status !== "synced" || record.vault_version !== meta.current_version) {
      record = await this.reconcile(service);
      if (!record) return null;
    }
    return toInfo(record);
  }

  /** Every stored key, reconciling records that disagree with Vault's listing. */
  async list(): Promise<KeyInfo[]> {
    const [names, rows] = await Promise.all([
      this.vault.list(keysFolder(this.tenantId)),
      this.db.select().from(connectorConfigs).where(eq(connectorConfigs.tenant_id, this.tenantId)),
    ]);
    const inVault = new Set(names.filter((n) => SERVICE_NAME.test(n)));
    const byService = new Map(rows.map((r) => [r.connector_id, r]));
    const services = new Set([
      ...inVault,
      ...rows.filter((r) => r.is_active || r.sync_status === "pending").map((r) => r.connector_id),
    ]);
    const items: KeyInfo[] = [];
    for (const service of [...services].sort()) {
      const row = byService.get(service);
      const consistent = inVault.has(service) && row?.is_active && row.sync_status === "synced";
      if (consistent) {
        items.push(toInfo(row));
      } else {
        const info = await this.info(service);
        if (info) items.push(info);
      }
    }
    return items;
  }

  /** Deletes every version; false when there was no key. */
  async remove(service: string): Promise<boolean> {
    const path = this.pathOf(service);
    const [meta, row] = await Promise.all([this.vault.metadata(path), this.row(service)]);
    if (!meta && !row?.is_active) return false;
    if (row) await this.markPending(service, path);
    await this.vault.destroyAll(path);
    if (row) {
      await this.db
        .update(connectorConfigs)
        .set({
          is_active: false,
          key_hint: null,
          vault_version: null,
          sync_status: "synced",
          last_synced_at: new Date(),
        })
        .where(this.rowWhere(service));
    }
    return !!meta;
  }

  /** Reads the key for a provider call. Only chat/embedding code calls this. */
  async useKey(service: string): Promise<{ apiKey: string; version: number } | null> {
    const secret = await this.vault.read<StoredSecret>(this.pathOf(service));
    if (!secret || typeof secret.data.api_key !== "string") return null;
    return { apiKey: secret.data.api_key, version: secret.metadata.version };
  }

  /** Makes the record match Vault. Reads the stored secret for its non-secret fields. */
  private async reconcile(service: string): Promise<Row | null> {
    const path = this.pathOf(service);
    const secret = await this.vault.read<StoredSecret>(path);
    if (!secret) {
      await this.db
        .update(connectorConfigs)
        .set({
          is_active: false,
          key_hint: null,
          vault_version: null,
          sync_status: "synced",
          last_synced_at: new Date(),
        })
        .where(this.rowWhere(service));
      return null;
    }
    // Vault may hold what Postgres cannot (U+0000, lone surrogates: written before the API refused them, or
    // by another client); such fields are left out of the record rather than failing every list of the tenant.
    const text = (s: unknown) => (typeof s === "string" && isStorableText(s) ? s : null);
    const values = {
      vault_path: path,
      is_active: true,
      key_hint: text(secret.data.key_hint),
      vault_version: secret.metadata.version,
      metadata: storableEntries(secret.data.metadata ?? {}),
      sync_status: "synced",
      // When the current version was written, so `updated_at` means the same after a reconcile.
      last_synced_at: new Date(secret.metadata.created_time),
    };
    const [row] = await this.db
      .insert(connectorConfigs)
      .values({
        tenant_id: this.tenantId,
        connector_id: service,
        created_by: text(secret.data.created_by),
        ...values,
      })
      .onConflictDoUpdate({
        target: [connectorConfigs.tenant_id, connectorConfigs.connector_id],
        set: { ...values, created_by: sql`coalesce(${connectorConfigs.created_by}, excluded.created_by)` },
      })
      .returning();
    return row ?? null;
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

  private async markPending(service: string, path: string): Promise<void> {
    await this.db
      .insert(connectorConfigs)
      .values({
        tenant_id: this.tenantId,
        connector_id: service,
        vault_path: path,
        is_active: false,
        sync_status: "pending",
      })
      .onConflictDoUpdate({
        target: [connectorConfigs.tenant_id, connectorConfigs.connector_id],
        set: { sync_status: "pending", vault_path: path },
      });
  }

  private async clearPending(service: string): Promise<void> {
    await this.db.update(connectorConfigs).set({ sync_status: "synced" }).where(this.rowWhere(service));
  }

  private rowWhere(service: string) {
    return and(eq(connectorConfigs.tenant_id, this.tenantId), eq(connectorConfigs.connector_id, service));
  }
}

/** A record in the API's shape: created_at = first version stored, updated_at = current version stored. */
function toInfo(row: Row): KeyInfo {
  return {
    service: row.connector_id,
    has_key: true,
    created_at: row.created_at.toISOString(),
    created_by: row.created_by,
    updated_at: (row.last_synced_at ?? row.updated_at).toISOString(),
    version: row.vault_version ?? 0,
    key_hint: row.key_hint,
    metadata: row.metadata,
  };
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
