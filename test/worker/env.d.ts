import type { Bindings } from "../../src/env";

// The test stack's settings arrive as bindings (vitest.config.ts); type them for `env`.
declare global {
  namespace Cloudflare {
    interface Env extends Omit<Bindings, keyof __BaseEnv_Env> {}
  }
}
