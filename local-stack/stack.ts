/**
 * Starts the stand-ins the Worker talks to — Neon SQL-over-HTTP (PGlite +
 * pgvector), Vault KV v2 and the LLM providers — applies the migrations, and
 * returns the Worker settings that point at them. Used by `npm run dev`
 * (fixed ports, persisted) and by the test suites (free ports, in memory).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { migrateDatabase } from "../scripts/migrate";
import { setupVault } from "../scripts/vault-setup";
import type { SettingsEnv } from "../src/config";
import { startLlmProvider, type LlmProviderStandIn } from "./llm-provider/server";
import type { Credentials } from "./neon-http/protocol";
import { startNeonHttp, type NeonHttpServer } from "./neon-http/server";
import { DEV, LATENCY_PROFILES, type StandInLatency } from "./settings";
import { startVault, type VaultStandIn } from "./vault/server";
import { DEV_SHOPIFY_TOKEN, type ShopifyStandIn, startShopify } from "./shopify/server";
import { DEV_WP_APP_PASSWORD, DEV_WP_USER, startWordPress, type WordPressStandIn } from "./wordpress/server";

export interface StackOptions {
  /** Persist data under DEV.dataDir and use the fixed dev ports. */
  persist: boolean;
  /** Use a real Postgres behind the Neon stand-in instead of PGlite. */
  postgresUrl?: string | undefined;
  /** Skip the Vault stand-in (VAULT_ADDR points at a real Vault). */
  externalVault?: boolean;
  /** Skip the Neon stand-in and migrate this Neon database instead. */
  externalDatabaseUrl?: string | undefined;
  /** The stand-ins' network and model timing; default loopback as it is (LATENCY_PROFILES.loopback). */
  latency?: StandInLatency;
  log?: (line: string) => void;
}

export interface LocalStack {
  /** Settings for the Worker (vars and dev secrets). */
  vars: Record<string, string>;
  neon: NeonHttpServer | undefined;
  vault: VaultStandIn | undefined;
  /** The stand-in's root token, for tests and set-up that act as Vault's operator (never the Worker's). */
  vaultRootToken: string | undefined;
  llm: LlmProviderStandIn;
  /** A WordPress site to connect (not a Worker setting: a tenant gives its URL to POST /connectors). */
  wordpress: WordPressStandIn;
  /** A Shopify shop to connect, likewise. */
  shopify: ShopifyStandIn;
  /** Changes the stand-ins' timing while they run (the bench switches profiles this way). */
  setLatency(latency: StandInLatency): void;
  close(): Promise<void>;
}

export async function startLocalStack(opts: StackOptions): Promise<LocalStack> {
  const log = opts.log ?? (() => {});
  const latency = opts.latency ?? LATENCY_PROFILES.loopback;
  if (opts.persist) mkdirSync(DEV.dataDir, { recursive: true });
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    const neon = opts.externalDatabaseUrl
      ? undefined
      : await startNeonHttp({
          port: opts.persist ? DEV.ports.neon : 0,
          dataDir: opts.persist && !opts.postgresUrl ? join(DEV.dataDir, "pgdata") : undefined,
          postgresUrl: opts.postgresUrl,
          credentials: credentialsOf(DEV.databaseUrl),
        });
    if (neon) {
      started.push(neon);
      log(`neon stand-in   ${neon.url}`);
    }
    const vault = opts.externalVault
      ? undefined
      : await startVault({
          port: opts.persist ? DEV.ports.vault : 0,
          rootToken: DEV.vaultRootToken,
          dataFile: opts.persist ? join(DEV.dataDir, "vault.json") : undefined,
        });
    if (vault) {
      started.push(vault);
      log(`vault stand-in  ${vault.url}`);
      // The same set-up as production (`npm run vault:setup`): the gateway runs under the repo's
      // policy through AppRole, never the root token, so a missing capability fails here too.
      await setupVault({ addr: vault.url, token: DEV.vaultRootToken, fixedCredentials: DEV.vaultAppRole });
    }
    const llm = await startLlmProvider({ port: opts.persist ? DEV.ports.llm : 0 });
    started.push(llm);
    log(
      `llm stand-in    ${llm.url}  (also an Azure OpenAI endpoint: deployments gpt-4o-mini, chat-prod, text-embedding-3-small)`,
    );
    const wordpress = await startWordPress({ port: opts.persist ? DEV.ports.wordpress : 0 });
    started.push(wordpress);
    log(`wordpress       ${wordpress.url}  (user ${DEV_WP_USER}, application password "${DEV_WP_APP_PASSWORD}")`);
    const shopify = await startShopify({ port: opts.persist ? DEV.ports.shopify : 0 });
    started.push(shopify);
    log(`shopify         ${shopify.url}  (access token ${DEV_SHOPIFY_TOKEN})`);
    const databaseUrl = opts.externalDatabaseUrl ?? DEV.databaseUrl;
    const applied = await migrateDatabase({ databaseUrl, fetchEndpoint: neon?.url });
    log(`migrations      ${applied} applied`);
    // Set up first (migrations, AppRole), then the timing applies to what the Worker does.
    const setLatency = (l: StandInLatency) => {
      neon?.setLatency(l.neonMs);
      vault?.setLatency(l.vaultMs);
      llm.setLatency({ firstTokenMs: l.llmFirstTokenMs, tokenDelayMs: l.llmTokenDelayMs });
    };
    setLatency(latency);
    if (latency.vaultMs > 0 || latency.neonMs > 0 || latency.llmFirstTokenMs > 0)
      log(
        `latency         Vault ${latency.vaultMs} ms, Neon ${latency.neonMs} ms, model first token ${latency.llmFirstTokenMs} ms (+${latency.llmTokenDelayMs} ms a piece)`,
      );
    // The Worker's settings; `satisfies` makes a misspelt name a type error.
    const vars: Record<string, string> = {
      APP_ENV: opts.persist ? "development" : "test",
      DATABASE_URL: databaseUrl,
      // PGlite runs Postgres in WASM, an order of magnitude slower than Neon (a 100-chunk document
      // insert takes seconds on a loaded laptop): the stand-in gets a longer timeout than production's.
      ...(neon ? { NEON_FETCH_ENDPOINT: neon.url, DATABASE_TIMEOUT_MS: "30000" } : {}),
      ...(vault
        ? { VAULT_ADDR: vault.url, VAULT_ROLE_ID: DEV.vaultAppRole.roleId, VAULT_SECRET_ID: DEV.vaultAppRole.secretId }
        : {}),
      JWT_ISSUER: DEV.jwt.issuer,
      JWT_AUDIENCE: DEV.jwt.audience,
      JWT_SECRET: DEV.jwt.secret,
      CORS_ORIGINS: DEV.portalOrigins.join(","),
      OPENAI_BASE_URL: llm.openaiBaseUrl,
      ANTHROPIC_BASE_URL: llm.anthropicBaseUrl,
      // The content stand-ins listen on loopback over http; only development and tests may reach them.
      CONNECTORS_ALLOW_LOOPBACK: "true",
      // Tenants' Azure OpenAI endpoint is the LLM stand-in's loopback URL locally.
      PROVIDERS_ALLOW_LOOPBACK: "true",
    } satisfies SettingsEnv;
    return {
      vars,
      neon,
      vault,
      vaultRootToken: vault ? DEV.vaultRootToken : undefined,
      llm,
      wordpress,
      shopify,
      setLatency,
      close: async () => {
        for (const s of started.reverse()) await s.close().catch(() => {});
      },
    };
  } catch (err) {
    for (const s of started.reverse()) await s.close().catch(() => {});
    throw err;
  }
}

/** The role, password and database of a postgres:// URL: what the Neon stand-in accepts. */
function credentialsOf(databaseUrl: string): Credentials {
  const url = new URL(databaseUrl);
  return {
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)),
  };
}
