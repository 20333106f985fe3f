import { z } from "zod";
import { EMBEDDING_DIMENSIONS } from "./db/schema";
import { EMBEDDING_MODEL_DIMENSIONS } from "./llm/models";

const csv = (s: string | undefined) =>
  (s ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);

const intSetting = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

const httpUrl = z.url({ protocol: /^https?$/ });

const trimSlash = (url: string) => url.replace(/\/+$/, "");

const JWT_ALGS = ["RS256", "ES256", "EdDSA"] as const;

/** A setting set with `wrangler secret put`, never in wrangler.toml (README "Settings" marks it **yes**). */
const secret = <T extends z.ZodType>(schema: T): T => schema.meta({ secret: true });

/**
 * Every setting the Worker reads, declared once: the key is its name, the
 * schema its validation and default, `secret()` marks secrets. README
 * "Settings" documents each one (a test compares the table with this), and
 * `Bindings` (env.ts) derives its vars and secrets from these keys. Adding a
 * setting: one entry here, its place in `ConfigSchema`'s transform, a README row.
 */
export const SETTINGS = {
  APP_ENV: z.enum(["production", "development", "test"]).default("production"),
  DATABASE_URL: secret(z.string().regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")),
  NEON_FETCH_ENDPOINT: httpUrl.optional(),
  // Each database call (one HTTPS request to Neon): a hung database must end in a 503, not hang the request.
  DATABASE_TIMEOUT_MS: intSetting(5000, 100, 60_000),
  VAULT_ADDR: httpUrl,
  VAULT_TOKEN: secret(z.string().min(1).optional()),
  VAULT_ROLE_ID: secret(z.string().min(1).optional()),
  VAULT_SECRET_ID: secret(z.string().min(1).optional()),
  VAULT_NAMESPACE: z.string().min(1).optional(),
  VAULT_KV_MOUNT: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+(\/[a-zA-Z0-9_-]+)*$/, "must be a mount path such as secret")
    .default("secret"),
  VAULT_TIMEOUT_MS: intSetting(3000, 100, 30_000),
  JWT_ISSUER: z.string().min(1),
  JWT_AUDIENCE: z.string().min(1),
  // HS256 secrets shorter than 32 bytes are brute-forceable; refuse to start.
  JWT_SECRET: secret(
    z
      .string()
      .refine((s) => new TextEncoder().encode(s).byteLength >= 32, "must be at least 32 bytes")
      .optional(),
  ),
  JWT_JWKS_URL: httpUrl.optional(),
  JWT_ALGORITHMS: z
    .string()
    .optional()
    .transform((s) => (s ? csv(s) : [...JWT_ALGS]))
    .pipe(z.array(z.enum(JWT_ALGS)).min(1)),
  JWT_TENANT_CLAIM: z.string().min(1).default("tenant_id"),
  JWT_ROLES_CLAIM: z.string().min(1).default("roles"),
  JWT_CLOCK_TOLERANCE_SECONDS: intSetting(5, 0, 300),
  // A token's longest accepted lifetime (exp − iat) and age (now − iat): a leaked long-lived token stays useless.
  JWT_MAX_TOKEN_AGE_SECONDS: intSetting(24 * 3600, 60, 30 * 24 * 3600),
  CORS_ORIGINS: z
    .string()
    .optional()
    .transform(csv)
    .pipe(z.array(z.url().refine((o) => new URL(o).origin === o, "must be origins like https://portal.example.com"))),
  MAX_BODY_BYTES: intSetting(64 * 1024, 1024, 10 * 1024 * 1024),
  // Documents are the one large input (up to 200,000 characters each, 50 per batch).
  MAX_DOCUMENT_BODY_BYTES: intSetting(2 * 1024 * 1024, 1024, 50 * 1024 * 1024),
  // A document longer than this is stored by a Workflow (202 + job), not within the request.
  KNOWLEDGE_ASYNC_ABOVE_CHARS: intSetting(50_000, 0, 200_000),
  OPENAI_BASE_URL: httpUrl.default("https://api.openai.com/v1"),
  ANTHROPIC_BASE_URL: httpUrl.default("https://api.anthropic.com"),
  // The knowledge_base column is vector(EMBEDDING_DIMENSIONS): only a model of that width can fill it.
  EMBEDDING_MODEL: z
    .string()
    .default("text-embedding-3-small")
    .refine((m) => m in EMBEDDING_MODEL_DIMENSIONS, "must be a known OpenAI embedding model")
    .refine(
      (m) => EMBEDDING_MODEL_DIMENSIONS[m] === EMBEDDING_DIMENSIONS,
      `must produce ${EMBEDDING_DIMENSIONS}-dimensional embeddings (the knowledge_base column's width)`,
    ),
  // Provider calls: time to response headers, and the longest pause between streamed chunks.
  LLM_TIMEOUT_MS: intSetting(30_000, 1000, 300_000),
  // How long an isolate keeps a tenant's provider key and agent config (src/lib/isolate-cache.ts): the
  // longest another isolate may serve a rotated or deleted key, or an updated agent. 0 turns caching off.
  CACHE_TTL_MS: intSetting(30_000, 0, 300_000),
  // Tenant-given provider endpoints (Azure OpenAI): only local development may point them at the loopback stand-in over http.
  PROVIDERS_ALLOW_LOOPBACK: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  DEV_LOGIN: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  // Connectors reach user-given URLs: only local development may point them at loopback stand-ins over http.
  CONNECTORS_ALLOW_LOOPBACK: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  // Each call to a connected site or shop.
  CONNECTOR_TIMEOUT_MS: intSetting(15_000, 1000, 120_000),
  // How long an isolate trusts the budgets and month's spend it read (0: read before every provider call).
  USAGE_BUDGET_CACHE_SECONDS: intSetting(10, 0, 300),
  // Audit events of requests finishing within this window leave an isolate in one queue message (0: one per event);
  // small beside the consumer's 1 s batching (wrangler.toml max_batch_timeout).
  AUDIT_SEND_WINDOW_MS: intSetting(50, 0, 1000),
};

export type SettingName = keyof typeof SETTINGS;

/** The settings as the Worker receives them (vars and secrets are strings): the settings part of `Bindings`. */
export type SettingsEnv = { [K in SettingName]?: string };

/**
 * The settings, checked together, then shaped into the `Config` the code reads.
 * Issue paths are setting names, so a failure can name the setting — never its value.
 */
const ConfigSchema = z
  .object(SETTINGS)
  .superRefine((c, ctx) => {
    if (!c.VAULT_TOKEN && !(c.VAULT_ROLE_ID && c.VAULT_SECRET_ID)) {
      ctx.addIssue({
        code: "custom",
        path: ["VAULT_TOKEN"],
        message: "set VAULT_TOKEN or VAULT_ROLE_ID and VAULT_SECRET_ID",
      });
    }
    if (!!c.JWT_SECRET === !!c.JWT_JWKS_URL) {
      ctx.addIssue({
        code: "custom",
        path: ["JWT_SECRET"],
        message: "set exactly one of JWT_SECRET (HS256) or JWT_JWKS_URL",
      });
    }
    // The dev sign-in mints admin tokens: it must never exist in production.
    if (c.DEV_LOGIN && c.APP_ENV === "production") {
      ctx.addIssue({ code: "custom", path: ["DEV_LOGIN"], message: "must not be enabled when APP_ENV is production" });
    }
    // Loopback and http would let a tenant's connector reach the Worker's own network neighbours.
    if (c.CONNECTORS_ALLOW_LOOPBACK && c.APP_ENV === "production") {
      ctx.addIssue({
        code: "custom",
        path: ["CONNECTORS_ALLOW_LOOPBACK"],
        message: "must not be enabled when APP_ENV is production",
      });
    }
    // The same for the endpoints of tenants' provider credentials: the key would be sent there.
    if (c.PROVIDERS_ALLOW_LOOPBACK && c.APP_ENV === "production") {
      ctx.addIssue({
        code: "custom",
        path: ["PROVIDERS_ALLOW_LOOPBACK"],
        message: "must not be enabled when APP_ENV is production",
      });
    }
  })
  .transform((c) => ({
    appEnv: c.APP_ENV,
    databaseUrl: c.DATABASE_URL,
    neonFetchEndpoint: c.NEON_FETCH_ENDPOINT,
    /** Timeout of each database call. */
    databaseTimeoutMs: c.DATABASE_TIMEOUT_MS,
    vault: {
      addr: trimSlash(c.VAULT_ADDR),
      token: c.VAULT_TOKEN,
      appRole:
        c.VAULT_ROLE_ID && c.VAULT_SECRET_ID ? { roleId: c.VAULT_ROLE_ID, secretId: c.VAULT_SECRET_ID } : undefined,
      namespace: c.VAULT_NAMESPACE,
      mount: c.VAULT_KV_MOUNT,
      timeoutMs: c.VAULT_TIMEOUT_MS,
    },
    jwt: {
      issuer: c.JWT_ISSUER,
      audience: c.JWT_AUDIENCE,
      secret: c.JWT_SECRET,
      jwksUrl: c.JWT_JWKS_URL,
      /** Pinned algorithms for a JWKS; empty with an HS256 secret. */
      algorithms: c.JWT_SECRET ? [] : c.JWT_ALGORITHMS,
      tenantClaim: c.JWT_TENANT_CLAIM,
      rolesClaim: c.JWT_ROLES_CLAIM,
      clockToleranceSeconds: c.JWT_CLOCK_TOLERANCE_SECONDS,
      /** Longest accepted lifetime (exp − iat) and age (now − iat), in seconds. */
      maxTokenAgeSeconds: c.JWT_MAX_TOKEN_AGE_SECONDS,
    },
    corsOrigins: c.CORS_ORIGINS,
    maxBodyBytes: c.MAX_BODY_BYTES,
    /** Body limit of POST /knowledge/documents and /knowledge/documents/batch. */
    maxDocumentBodyBytes: c.MAX_DOCUMENT_BODY_BYTES,
    /** POST /knowledge/documents: longer content is stored by the ingest Workflow (202 + job). */
    knowledgeAsyncAboveChars: c.KNOWLEDGE_ASYNC_ABOVE_CHARS,
    providers: {
      openaiBaseUrl: trimSlash(c.OPENAI_BASE_URL),
      anthropicBaseUrl: trimSlash(c.ANTHROPIC_BASE_URL),
      timeoutMs: c.LLM_TIMEOUT_MS,
      embeddingModel: c.EMBEDDING_MODEL,
      /** How far a tenant-given provider endpoint may reach (SSRF rules; lib/reach.ts). */
      endpoints: { allowLoopback: c.PROVIDERS_ALLOW_LOOPBACK },
    },
    /** How long an isolate keeps a tenant's provider key and agent config (0: not at all). */
    cacheTtlMs: c.CACHE_TTL_MS,
    devLogin: c.DEV_LOGIN,
    /** How far connectors may reach (SSRF rules) and their call timeout. */
    connectors: { allowLoopback: c.CONNECTORS_ALLOW_LOOPBACK, timeoutMs: c.CONNECTOR_TIMEOUT_MS },
    /** Budgets: how long an isolate keeps the budgets and spend it read (README "Usage and budgets"). */
    usage: { budgetCacheSeconds: c.USAGE_BUDGET_CACHE_SECONDS },
    /** Audit events of concurrent requests share a queue send within this window (src/audit/audit-log.ts). */
    auditSendWindowMs: c.AUDIT_SEND_WINDOW_MS,
  }));

/** Validated, typed settings. */
export type Config = z.output<typeof ConfigSchema>;

/** A setting is missing or invalid. Carries the setting's name, never its value. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    readonly reason: string,
  ) {
    super(`invalid setting ${setting}: ${reason}`);
  }
}

const cache = new WeakMap<object, Config>();
/** The last env's settings as given, to recognise the same settings in a new env object. */
let last: { values: unknown[]; config: Config } | undefined;
const NAMES = Object.keys(SETTINGS) as SettingName[];

/**
 * Parses the settings from the Worker's env once per isolate. The runtime may
 * hand each request a new env object, so besides identity the raw values are
 * compared (cheap) before parsing again (zod, not cheap).
 */
export function getConfig(env: SettingsEnv): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const values = NAMES.map((k) => env[k]);
  let config: Config;
  if (last && values.every((v, i) => v === last!.values[i])) {
    config = last.config;
  } else {
    config = parseConfig(env);
    last = { values, config };
  }
  cache.set(env, config);
  return config;
}

function parseConfig(env: SettingsEnv): Config {
  const parsed = ConfigSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  // Zod messages about a value never include the value itself for these checks.
  throw new ConfigError(String(issue.path[0] ?? "unknown"), issue.code === "invalid_type" ? "missing" : issue.message);
}
