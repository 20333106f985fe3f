/**
 * Stands in for zod's `locales` index in the Worker bundle (see wrangler.toml [alias]).
 * zod exposes all ~50 locales on its `z` namespace, which @hono/zod-openapi keeps
 * alive, costing ~38 KiB gzipped; the API speaks English only.
 */
export { default as en } from "zod/v4/locales/en.js";
