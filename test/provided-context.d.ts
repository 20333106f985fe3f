import type { JWK } from "jose";

// What test/global-setup.ts provides to the Worker tests (vitest `inject`).
declare module "vitest" {
  export interface ProvidedContext {
    stackVars: Record<string, string>;
    jwks: { url: string; privateKeys: Record<string, JWK> };
  }
}
