import type { JWK } from "jose";

// What test/global-setup.ts provides to the Worker tests (vitest `inject`).
declare module "vitest" {
  export interface ProvidedContext {
    stackVars: Record<string, string>;
    /** The Vault stand-in's root token: tests act as Vault's operator with it; the Worker never gets it. */
    vaultRootToken: string;
    /** policies/brain-gateway.hcl as vault:setup writes it. */
    gatewayPolicy: string;
    jwks: { url: string; privateKeys: Record<string, JWK> };
    /** A Neon stand-in pooled over a real Postgres (no pgvector), or "" when none is configured. */
    pooledNeonUrl: string;
  }
}
