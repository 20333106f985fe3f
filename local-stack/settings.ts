/**
 * The local stack's fixed, documented settings. Dev-only values: none of these
 * is a secret anywhere but on a developer's laptop, and production never uses them.
 */
const port = (name: string, def: number) => Number(process.env[name] ?? def);

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
