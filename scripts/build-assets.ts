/**
 * Builds the Worker's static assets (wrangler.toml `[assets]`) into dist/public:
 * web/public as it is, the browser modules (web/*.ts) bundled and the
 * stylesheets minified by esbuild, and Swagger UI copied from node_modules
 * (its version pinned in package.json). Nothing generated is committed:
 * wrangler runs this before every `dev`, `deploy` and `--dry-run` build
 * (`[build]` in wrangler.toml), so the browser tests and the bench get it too.
 */
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const OUT = "dist/public";
const SWAGGER_UI = "node_modules/swagger-ui-dist";

rmSync(OUT, { recursive: true, force: true });
mkdirSync(join(OUT, "assets/swagger-ui"), { recursive: true });
cpSync("web/public", OUT, { recursive: true });
for (const file of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"])
  cpSync(join(SWAGGER_UI, file), join(OUT, "assets/swagger-ui", file));

await build({
  entryPoints: ["web/byok.ts", "web/byok.css", "web/docs.ts", "web/docs.css"],
  outdir: join(OUT, "assets"),
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  // Browsers with <dialog>, color-mix() and module scripts.
  target: ["chrome111", "firefox113", "safari16.2"],
  tsconfig: "web/tsconfig.json",
  logLevel: "warning",
});
