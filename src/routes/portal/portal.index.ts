import type { Config } from "../../config";
import { ApiError } from "../../errors/problem";
import { createRouter } from "../../lib/openapi";
import { byokPage } from "./byok.page";
import { mintDevSession } from "./dev-session";

/** Dev sign-in is offered only when enabled (never in production, see config.ts) and HS256 is configured. */
const devLoginAvailable = (config: Config) => config.devLogin && !!config.jwt.secret;

/** A fresh CSP nonce per response (144 random bits). */
function nonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The BYOK page and its development sign-in. Public (mounted before
 * `authenticate`): the page calls the keys API with the bearer token the
 * portal gives it. Not in the OpenAPI document: neither is part of the API.
 */
export const portalRouter = createRouter()
  .get("/byok", (c) => {
    const n = nonce();
    const config = c.get("config");
    // Only the stylesheet and the module script whose tags carry this response's nonce load (an injected
    // tag cannot guess it, even one pointing at another /assets file); the page talks to this origin only,
    // submits no form natively, and may be framed by the portal origins alone.
    const frameAncestors = ["'self'", ...config.corsOrigins].join(" ");
    c.header(
      "Content-Security-Policy",
      `default-src 'none'; script-src 'nonce-${n}'; style-src 'nonce-${n}'; connect-src 'self'; img-src 'self' data:; ` +
        `base-uri 'none'; form-action 'none'; frame-ancestors ${frameAncestors}`,
    );
    c.header("Cache-Control", "no-store");
    return c.html(
      byokPage({
        nonce: n,
        devLogin: devLoginAvailable(config),
        portalOrigins: config.corsOrigins,
        cacheTtlMs: config.cacheTtlMs,
      }),
    );
  })
  .post("/dev/session", async (c) => {
    // Indistinguishable from an unknown route unless enabled.
    if (!devLoginAvailable(c.get("config"))) throw new ApiError("not_found", "No such route.");
    const session = await mintDevSession(c.get("config").jwt);
    c.get("logger").warn("dev.session_minted", { tenantId: session.tenant_id, userId: session.user_id });
    c.header("Cache-Control", "no-store");
    return c.json(session, 201);
  });
