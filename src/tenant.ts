import { ApiKeyStore } from "./api-keys/api-key-store";
import { AgentStore } from "./agents/agent-store";
import { ConnectorStore } from "./connectors/connector-store";
import type { Database } from "./db/client";
import { KeyStore } from "./keys/key-store";
import { IngestJobStore } from "./knowledge/jobs";
import { EXACT_SCAN_MAX, KnowledgeStore } from "./knowledge/knowledge-store";
import { KnowledgeSettingsStore } from "./knowledge/settings";
import type { Background } from "./lib/background";
import type { Principal } from "./middleware/auth";
import { UsageStore } from "./usage/usage-store";
import type { VaultClient } from "./vault/client";

/**
 * The verified caller and its tenant's stores, built once per request right after authentication
 * (context value `tenant`). Every store is bound to `principal.tenantId`, the only tenant a handler
 * can reach; nothing else constructs a store for a request.
 */
export interface Tenant {
  principal: Principal;
  keys: KeyStore;
  agents: AgentStore;
  knowledge: KnowledgeStore;
  /** Large uploads stored by the ingest Workflow. */
  knowledgeJobs: IngestJobStore;
  /** Which provider embeds the tenant's knowledge. */
  knowledgeSettings: KnowledgeSettingsStore;
  connectors: ConnectorStore;
  apiKeys: ApiKeyStore;
  usage: UsageStore;
  /** Where the request's stores put work nobody waits for (a key's last use, a cache refreshed ahead). */
  background: Background;
}

/**
 * Binds the stores to the verified principal's tenant (small objects: no I/O happens here).
 * `background` runs the record updates nobody waits for (a key's last use); `cacheTtlMs`
 * (CACHE_TTL_MS) lets the hot path's reads (provider key, agent, knowledge settings, scope size) come from
 * this isolate's cache.
 */
export function tenantOf(
  principal: Principal,
  db: Database,
  vault: VaultClient,
  background: Background,
  cacheTtlMs = 0,
): Tenant {
  return {
    principal,
    keys: new KeyStore(db, vault, principal.tenantId, background, cacheTtlMs),
    agents: new AgentStore(db, principal.tenantId, cacheTtlMs, background),
    knowledge: new KnowledgeStore(db, principal.tenantId, EXACT_SCAN_MAX, cacheTtlMs, background),
    knowledgeJobs: new IngestJobStore(db, principal.tenantId),
    knowledgeSettings: new KnowledgeSettingsStore(db, principal.tenantId, cacheTtlMs, background),
    connectors: new ConnectorStore(db, vault, principal.tenantId),
    apiKeys: new ApiKeyStore(db, principal.tenantId),
    usage: new UsageStore(db, principal.tenantId),
    background,
  };
}
