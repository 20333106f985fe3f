/**
 * The gateway's tables. Column names follow the seed (audit_logs,
 * connector_configs, agent_configs, knowledge_base); what the seed lacked and a
 * real product needs is marked "Added:" with the reason.
 *
 * Migrations in ../../migrations are generated from this file by drizzle-kit
 * (`npm run db:generate`); a test fails when the two disagree.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  customType,
  date,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
  vector,
} from "drizzle-orm/pg-core";

/** Embedding width of text-embedding-3-small; checked against the configured model at startup. */
export const EMBEDDING_DIMENSIONS = 1536;

const timestamps = {
  created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  // Added: kept current by a trigger (migration 0002) so every writer, not only drizzle, maintains it.
  updated_at: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
};

/**
 * One row per action on a tenant's resources, including reads and denied attempts. Append-only.
 * Added: each tenant's rows form a hash chain (src/audit/chain.ts, README "Audit trail"),
 * appended only by the function audit_append (migration 0006).
 */
export const auditLogs = pgTable(
  "audit_logs",
  {
    // Added: a UUIDv7 given when the request records the event, so ids sort by time and a
    // redelivered event is recognised (inserts are idempotent on it).
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id").notNull(),
    // Added: the row's place in its tenant's chain: 1, 2, 3, … without gaps. Null only
    // for rows written before the chain existed (migration 0005).
    seq: bigint("seq", { mode: "number" }),
    user_id: text("user_id"),
    action: text("action").notNull(),
    resource_type: text("resource_type").notNull(),
    resource_id: text("resource_id"),
    // Added: success | denied | error, so denied attempts are queryable.
    outcome: text("outcome").notNull(),
    // Added: ties a row to the request's logs.
    request_id: text("request_id"),
    ip_address: text("ip_address"),
    user_agent: text("user_agent"),
    // Non-secret facts: vault_version, key_hint, error code. Never a key or token.
    details: jsonb("details").$type<Record<string, unknown>>().notNull().default({}),
    // When the request recorded the event (not when the queue delivered it).
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    // Added: the previous row's hash (64 zeros for seq 1) and this row's SHA-256, hex.
    prev_hash: text("prev_hash"),
    hash: text("hash"),
  },
  (t) => [
    // Added: the audit page reads newest first per tenant with a (created_at, id) cursor.
    index("audit_logs_tenant_created_idx").on(t.tenant_id, t.created_at.desc(), t.id.desc()),
    index("audit_logs_tenant_action_idx").on(t.tenant_id, t.action),
    // Added: one row per place in a chain; verify and export read in this order.
    uniqueIndex("audit_logs_tenant_seq_uq").on(t.tenant_id, t.seq),
  ],
);

/** Added: the last link of each tenant's audit chain, locked by audit_append while it appends. */
export const auditChainHeads = pgTable("audit_chain_heads", {
  tenant_id: uuid("tenant_id").primaryKey(),
  seq: bigint("seq", { mode: "number" }).notNull(),
  hash: text("hash").notNull(),
  updated_at: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Added: attempts without a verified tenant (bad or missing token), for operators:
 * who is knocking, never with what token. Not part of any tenant's chain.
 */
export const securityEvents = pgTable(
  "security_events",
  {
    id: uuid("id").primaryKey(),
    reason: text("reason").notNull(),
    method: text("method").notNull(),
    path: text("path").notNull(),
    request_id: text("request_id"),
    ip_address: text("ip_address"),
    user_agent: text("user_agent"),
    created_at: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [index("security_events_created_idx").on(t.created_at.desc())],
);

/** A tenant's connection to an external service; for BYOK, one row per stored provider key. */
export const connectorConfigs = pgTable(
  "connector_configs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id").notNull(),
    connector_id: text("connector_id").notNull(),
    connector_type: text("connector_type").notNull().default("llm_api_key"),
    vault_path: text("vault_path").notNull(),
    is_active: boolean("is_active").notNull().default(true),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    // Added: masked hint and Vault version, so listing keys needs no Vault read.
    key_hint: text("key_hint"),
    // Added: a credential's readable fields besides the key (Azure OpenAI: endpoint, deployment,
    // api_version), copied from Vault like the hint so reads and lists need no Vault read. Null: none.
    settings: jsonb("settings").$type<Record<string, string>>(),
    vault_version: integer("vault_version"),
    created_by: text("created_by"),
    // Sync fields: 'synced' when this row matches Vault, 'pending' while a write spans both.
    sync_status: text("sync_status").notNull().default("synced"),
    last_synced_at: timestamp("last_synced_at", { withTimezone: true }),
    // Added: writes in flight (each store/delete counts itself in and out), so one writer's end
    // never clears another's mark; sync_status is 'pending' exactly while this is above 0.
    pending_writes: integer("pending_writes").notNull().default(0),
    // Added: the latest mark; a mark older than any write can take is a writer that died.
    pending_since: timestamp("pending_since", { withTimezone: true }),
    // Added: what the provider last said of the key (valid | rejected | unknown), when, and of which
    // version: a rotation leaves the new version unverified without touching these.
    verification: text("verification"),
    verified_version: integer("verified_version"),
    last_verified_at: timestamp("last_verified_at", { withTimezone: true }),
    // Added: when chat or embeddings last used the key (written off the response's path).
    last_used_at: timestamp("last_used_at", { withTimezone: true }),
    // Added: the date the tenant says the provider key stops working (also kept in Vault with the key).
    expires_at: timestamp("expires_at", { withTimezone: true }),
    // Added for content connectors (wordpress, shopify): the sync schedule (null = off), when the
    // cron trigger next starts a run, and where the last successful run stopped (per-type cursor).
    schedule_minutes: integer("schedule_minutes"),
    next_sync_at: timestamp("next_sync_at", { withTimezone: true }),
    sync_cursor: jsonb("sync_cursor").$type<Record<string, string>>(),
    ...timestamps,
  },
  (t) => [
    // Added: one record per tenant and service; the upsert relies on it.
    uniqueIndex("connector_configs_tenant_connector_uq").on(t.tenant_id, t.connector_id),
    // Added: the cron trigger's "which schedules are due" scan.
    index("connector_configs_next_sync_idx").on(t.next_sync_at).where(sql`${t.next_sync_at} IS NOT NULL`),
  ],
);

/** One sync of a content connector; `id` is also its Workflow instance id. */
export const connectorRuns = pgTable(
  "connector_runs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id").notNull(),
    connector_id: uuid("connector_id")
      .notNull()
      .references(() => connectorConfigs.id, { onDelete: "cascade" }),
    /** manual | schedule */
    trigger: text("trigger").notNull(),
    /** queued | running | succeeded | failed */
    status: text("status").notNull().default("queued"),
    seen: integer("seen").notNull().default(0),
    added: integer("added").notNull().default(0),
    updated: integer("updated").notNull().default(0),
    unchanged: integer("unchanged").notNull().default(0),
    removed: integer("removed").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    embedding_calls: integer("embedding_calls").notNull().default(0),
    /** The failed step and a stable code with a safe message; never an upstream body. */
    error: jsonb("error").$type<{ step: string; code: string; message: string }>(),
    started_at: timestamp("started_at", { withTimezone: true }),
    finished_at: timestamp("finished_at", { withTimezone: true }),
    created_by: text("created_by"),
    ...timestamps,
  },
  (t) => [
    index("connector_runs_tenant_connector_idx").on(t.tenant_id, t.connector_id, t.created_at.desc()),
    // Two runs of one connector never overlap: at most one queued or running run per connector.
    uniqueIndex("connector_runs_one_active_uq").on(t.connector_id).where(sql`${t.status} IN ('queued', 'running')`),
  ],
);

/** What a connector synced: one row per source item, its knowledge document and content hash. */
export const connectorItems = pgTable(
  "connector_items",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id").notNull(),
    connector_id: uuid("connector_id")
      .notNull()
      .references(() => connectorConfigs.id, { onDelete: "cascade" }),
    /** The source's id, e.g. `post:42` or a Shopify product gid. */
    external_id: text("external_id").notNull(),
    document_id: uuid("document_id").notNull(),
    /** SHA-256 of what was embedded; equal hash → not embedded again. */
    content_hash: text("content_hash").notNull(),
    source_url: text("source_url"),
    source_modified: text("source_modified"),
    /** The run that last wrote it and what it did (added | updated): a retried step still counts its own writes. */
    written_by_run: uuid("written_by_run"),
    write_kind: text("write_kind"),
    ...timestamps,
  },
  (t) => [uniqueIndex("connector_items_connector_external_uq").on(t.connector_id, t.external_id)],
);

/** An agent: its prompt, model and tools. */
export const agentConfigs = pgTable(
  "agent_configs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id").notNull(),
    agent_id: text("agent_id").notNull(),
    name: text("name").notNull(),
    description: text("description"),
    system_prompt: text("system_prompt").notNull().default("You are a helpful assistant."),
    llm_provider: text("llm_provider").notNull().default("openai"),
    llm_model: text("llm_model").notNull().default("gpt-4o-mini"),
    temperature: numeric("temperature", { precision: 3, scale: 2 }).notNull().default("0.70"),
    max_tokens: integer("max_tokens").notNull().default(1024),
    enabled_tools: jsonb("enabled_tools").$type<string[]>().notNull().default([]),
    is_active: boolean("is_active").notNull().default(true),
    // The plan's column: the tenant's own JSON (labels, owner, …), bounded by the API (8 KiB).
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    created_by: text("created_by"),
    ...timestamps,
  },
  (t) => [
    // Added: agent_id is the tenant's handle for the agent.
    uniqueIndex("agent_configs_tenant_agent_uq").on(t.tenant_id, t.agent_id),
  ],
);

/**
 * Added: tenant API keys (`bgk_…`) for code calling /v1. Only a SHA-256 of the key is stored (see
 * src/api-keys/secret.ts for why a fast hash is right for high-entropy keys), with a short hint.
 * The lookup is by hash alone (the tenant comes from the row it finds), hence the unique index.
 */
export const apiKeys = pgTable(
  "api_keys",
  {
    // A UUIDv7 given by the store, so ids sort by creation (the list's order and cursor).
    id: uuid("id").primaryKey(),
    tenant_id: uuid("tenant_id").notNull(),
    name: text("name").notNull(),
    /** Lowercase hex SHA-256 of the whole key; never the key. */
    key_hash: text("key_hash").notNull(),
    /** e.g. `bgk_****Ab3x`: enough to recognise a key in a list. */
    key_hint: text("key_hint").notNull(),
    /** What the key may call on /v1; both null = anything the tenant has (README "Tenant API keys"). */
    allowed_models: jsonb("allowed_models").$type<string[]>(),
    allowed_agents: jsonb("allowed_agents").$type<string[]>(),
    /** One of the limiter tiers (src/api-keys/rate-limit.ts); null = only the tenant's limit. */
    rate_limit_per_minute: integer("rate_limit_per_minute"),
    expires_at: timestamp("expires_at", { withTimezone: true }),
    /** Written off the response's path, at most once a minute per key. */
    last_used_at: timestamp("last_used_at", { withTimezone: true }),
    revoked_at: timestamp("revoked_at", { withTimezone: true }),
    revoked_by: text("revoked_by"),
    created_by: text("created_by"),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("api_keys_key_hash_uq").on(t.key_hash),
    // The list, newest first per tenant, continued after the last id seen.
    index("api_keys_tenant_id_idx").on(t.tenant_id, t.id.desc()),
  ],
);

/** Postgres tsvector; drizzle has no built-in type for it. Read-only here: the column is generated. */
const tsvector = customType<{ data: string }>({ dataType: () => "tsvector" });

/** Knowledge chunks with their embeddings, searched by cosine similarity fused with full-text rank. */
export const knowledgeBase = pgTable(
  "knowledge_base",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id").notNull(),
    agent_id: text("agent_id"),
    // Added: chunks of one document share document_id so a document is listed and deleted whole.
    document_id: uuid("document_id").notNull(),
    chunk_index: integer("chunk_index").notNull().default(0),
    title: text("title"),
    content: text("content").notNull(),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    // Added: pgvector column; HNSW with cosine ops serves ORDER BY embedding <=> $1.
    embedding: vector("embedding", { dimensions: EMBEDDING_DIMENSIONS }).notNull(),
    created_at: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    // Added: embeddings blur exact tokens (error codes, ids, SKUs) that a user types verbatim;
    // full text finds them. Generated by Postgres so every writer keeps it current; title included
    // because titles often carry the id. Search fuses both rankings (knowledge-store.ts).
    content_tsv: tsvector("content_tsv").generatedAlwaysAs(
      sql`to_tsvector('english', coalesce(title, '') || ' ' || content)`,
    ),
  },
  (t) => [
    index("knowledge_base_embedding_hnsw_idx").using("hnsw", t.embedding.op("vector_cosine_ops")),
    index("knowledge_base_content_tsv_gin_idx").using("gin", t.content_tsv),
    index("knowledge_base_tenant_agent_idx").on(t.tenant_id, t.agent_id),
    index("knowledge_base_tenant_document_idx").on(t.tenant_id, t.document_id),
  ],
);

/**
 * Added: a large upload taken off the request (POST /knowledge/documents or
 * /knowledge/documents/batch with a document over KNOWLEDGE_ASYNC_ABOVE_CHARS, or
 * `async: true`). `id` is also its Workflow instance id; the engine runs it, this
 * row is what the API reports. A single document's text waits here until it is
 * stored (a Workflow's params hold at most 1 MiB), then `content` is cleared; a
 * batch's documents wait in knowledge_job_documents and this row's document
 * columns stay null.
 */
export const knowledgeJobs = pgTable(
  "knowledge_jobs",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenant_id: uuid("tenant_id").notNull(),
    /**
     * The document the job writes (chosen up front, so a re-run step replaces rather than duplicates);
     * null for a batch, whose documents are its knowledge_job_documents rows.
     */
    document_id: uuid("document_id"),
    agent_id: text("agent_id"),
    title: text("title"),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    content: text("content"),
    characters: integer("characters").notNull(),
    /** queued | running | succeeded | failed */
    status: text("status").notNull().default("queued"),
    chunks: integer("chunks").notNull().default(0),
    embedding_calls: integer("embedding_calls").notNull().default(0),
    /** The failed step and a stable code with a safe message; never an upstream body. */
    error: jsonb("error").$type<{ step: string; code: string; message: string }>(),
    created_by: text("created_by"),
    started_at: timestamp("started_at", { withTimezone: true }),
    finished_at: timestamp("finished_at", { withTimezone: true }),
    ...timestamps,
  },
  (t) => [index("knowledge_jobs_tenant_created_idx").on(t.tenant_id, t.created_at.desc())],
);

/**
 * Added: the documents of a batch taken off the request (one job for the whole
 * batch, stored whole or not at all). Ids chosen up front like a single job's;
 * `content` is cleared when the batch is stored.
 */
export const knowledgeJobDocuments = pgTable(
  "knowledge_job_documents",
  {
    job_id: uuid("job_id")
      .notNull()
      .references(() => knowledgeJobs.id, { onDelete: "cascade" }),
    tenant_id: uuid("tenant_id").notNull(),
    /** The document's place in the request's `documents` (0-based). */
    position: integer("position").notNull(),
    document_id: uuid("document_id").notNull(),
    agent_id: text("agent_id"),
    title: text("title"),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    content: text("content"),
    characters: integer("characters").notNull(),
    chunks: integer("chunks").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.job_id, t.position] })],
);

/**
 * Added: a tenant's knowledge settings; no row = the defaults. `embedding_provider`
 * picks whose key embeds the tenant's knowledge: `openai` (EMBEDDING_MODEL) or
 * `azure-openai` (the embeddings deployment `embedding_deployment` of the tenant's
 * Azure OpenAI resource). Either way vectors are vector(EMBEDDING_DIMENSIONS).
 */
export const knowledgeSettings = pgTable("knowledge_settings", {
  tenant_id: uuid("tenant_id").primaryKey(),
  embedding_provider: text("embedding_provider").notNull().default("openai"),
  embedding_deployment: text("embedding_deployment"),
  updated_by: text("updated_by"),
  ...timestamps,
});

/**
 * Added: provider usage per tenant, UTC day and (model, agent, user, API key), kept by the audit
 * consumer in the same statement that appends each key.use row (usage_add, migration 0015), so a
 * row is counted exactly once (a redelivered event is skipped with its row). GET /usage and the
 * budget check sum these instead of scanning a month of audit rows; the audit rows stay the
 * evidence (each carries its own tokens and cost_usd).
 */
export const usageDaily = pgTable(
  "usage_daily",
  {
    tenant_id: uuid("tenant_id").notNull(),
    day: date("day", { mode: "string" }).notNull(),
    model: text("model").notNull(),
    agent_id: text("agent_id"),
    user_id: text("user_id"),
    api_key_id: text("api_key_id"),
    requests: bigint("requests", { mode: "number" }).notNull().default(0),
    /** key.use rows whose outcome was not success (their tokens, when known, are counted too). */
    failed_requests: bigint("failed_requests", { mode: "number" }).notNull().default(0),
    prompt_tokens: bigint("prompt_tokens", { mode: "number" }).notNull().default(0),
    completion_tokens: bigint("completion_tokens", { mode: "number" }).notNull().default(0),
    /** Exact: the sum of the rows' decimal cost_usd strings (whole nano-dollars). */
    cost_usd: numeric("cost_usd", { precision: 20, scale: 9 }).notNull().default("0"),
    /** Rows with tokens but no price (a model src/usage/prices.ts does not list): not in cost_usd. */
    unpriced_requests: bigint("unpriced_requests", { mode: "number" }).notNull().default(0),
  },
  (t) => [
    unique("usage_daily_group_uq")
      .on(t.tenant_id, t.day, t.model, t.agent_id, t.user_id, t.api_key_id)
      .nullsNotDistinct(),
  ],
);

/** Added: optional monthly spending limits, one per tenant (api_key_id null) and one per tenant API key. */
export const usageBudgets = pgTable(
  "usage_budgets",
  {
    tenant_id: uuid("tenant_id").notNull(),
    api_key_id: text("api_key_id"),
    monthly_limit_usd: numeric("monthly_limit_usd", { precision: 14, scale: 2 }).notNull(),
    created_by: text("created_by"),
    ...timestamps,
  },
  (t) => [unique("usage_budgets_scope_uq").on(t.tenant_id, t.api_key_id).nullsNotDistinct()],
);

export const schema = {
  auditLogs,
  auditChainHeads,
  securityEvents,
  connectorConfigs,
  connectorRuns,
  connectorItems,
  agentConfigs,
  knowledgeBase,
  knowledgeJobs,
  knowledgeJobDocuments,
  knowledgeSettings,
  apiKeys,
  usageDaily,
  usageBudgets,
};
export { sql };
