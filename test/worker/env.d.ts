import type { Bindings } from "../../src/env";

// The test stack's settings arrive as bindings (vitest.config.ts); type them for `env`.
declare global {
  namespace Cloudflare {
    interface Env extends Omit<Bindings, keyof __BaseEnv_Env> {
      /** The WordPress stand-in (test/global-setup.ts); not a Worker setting. */
      TEST_WORDPRESS_URL: string;
      /** The Shopify stand-in. */
      TEST_SHOPIFY_URL: string;
      /** The LLM stand-in's URL, which serves as an Azure OpenAI resource endpoint. */
      TEST_AZURE_ENDPOINT: string;
    }
  }
}
