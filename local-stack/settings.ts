/**
 * The local stack's fixed, documented settings. Dev-only values: none of these
 * is a secret anywhere but on a developer's laptop, and production never uses them.
 */
const port = (name: string, def: number) => Number(process.env[name] ?? def);

/**
 * The network and model timing the stand-ins play (ms). On loopback everything answers in well
 * under a millisecond, which hides what a request costs in production; these put it back.
 */
export interface StandInLatency {
  /** Every Vault request (Vault is a region away from the Worker: tens of ms). */
  vaultMs: number;
  /** Every Neon SQL request (a few ms); faults (`/__standin/faults`) add to it. */
  neonMs: number;
  /** A chat answer's time to first token (hundreds of ms for a real model). */
  llmFirstTokenMs: number;
  /** Between streamed pieces after the first. */
  llmTokenDelayMs: number;
}

export const LATENCY_PROFILES = {
  /** Loopback as it is (the tests' timing). */
  loopback: { vaultMs: 0, neonMs: 0, llmFirstTokenMs: 0, llmTokenDelayMs: 5 },
  /** Vault one region away, Neon nearby, a real model's first token. */
  "production-shaped": { vaultMs: 40, neonMs: 5, llmFirstTokenMs: 300, llmTokenDelayMs: 5 },
} as const satisfies Record<string, StandInLatency>;
export type LatencyProfile = keyof typeof LATENCY_PROFILES;

/** LOCAL_LATENCY_PROFILE picks a profile; LOCAL_VAULT_LATENCY_MS, LOCAL_NEON_LATENCY_MS, LOCAL_LLM_FIRST_TOKEN_MS, LOCAL_LLM_TOKEN_DELAY_MS override its parts. */
export function latencyFromEnv(env: Record<string, string | undefined> = process.env): StandInLatency {
  const name = env.LOCAL_LATENCY_PROFILE ?? "loopback";
  if (!Object.hasOwn(LATENCY_PROFILES, name))
    throw new Error(`LOCAL_LATENCY_PROFILE must be one of ${Object.keys(LATENCY_PROFILES).join(", ")}, got "${name}"`);
  const profile: StandInLatency = { ...LATENCY_PROFILES[name as LatencyProfile] };
  const ms = (key: string, fallback: number) => {
    const raw = env[key];
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${key} must be a non-negative number of ms, got "${raw}"`);
    return n;
  };
  return {
    vaultMs: ms("LOCAL_VAULT_LATENCY_MS", profile.vaultMs),
    neonMs: ms("LOCAL_NEON_LATENCY_MS", profile.neonMs),
    llmFirstTokenMs: ms("LOCAL_LLM_FIRST_TOKEN_MS", profile.llmFirstTokenMs),
    llmTokenDelayMs: ms("LOCAL_LLM_TOKEN_DELAY_MS", profile.llmTokenDelayMs),
  };
}

export const DEV = {
  // Fixed, documented ports; each can be moved with an env var (the dev-command test does).
  ports: {
    worker: port("PORT", 8787),
    neon: port("LOCAL_NEON_PORT", 4444),
    vault: port("LOCAL_VAULT_PORT", 8200),
    llm: port("LOCAL_LLM_PORT", 8300),
    wordpress: port("LOCAL_WORDPRESS_PORT", 8400),
    shopify: port("LOCAL_SHOPIFY_PORT", 8500),
    inspector: port("LOCAL_INSPECTOR_PORT", 9229),
  },
  /** The stand-in ignores user and password; Neon would check them. */
  databaseUrl: "postgresql://gateway:local-dev-password@ep-local-stack.localtest.me/brain",
  vaultRootToken: "dev-root-token",
  /** The gateway's AppRole credentials on the stand-in (role `brain-gateway`, policy policies/brain-gateway.hcl). */
  vaultAppRole: { roleId: "dev-gateway-role", secretId: "dev-gateway-secret" },
  jwt: {
    issuer: "https://auth.brain.local",
    audience: "brain-gateway",
    // 32+ bytes, as the Worker requires for HS256.
    secret: "local-dev-jwt-secret-change-me-0123456789",
  },
  dataDir: process.env.LOCAL_STACK_DIR ?? ".local-stack",
  portalOrigins: ["http://localhost:5173", "http://localhost:8787", "http://127.0.0.1:8787"],
} as const;
