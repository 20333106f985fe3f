import { env } from "cloudflare:test";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import { ConfigError, getConfig } from "../../src/config";
import type { Bindings } from "../../src/env";
import { byokPage } from "../../src/routes/portal/byok.page";
import { DEV_SESSION_SECONDS, DEV_TENANT_ID } from "../../src/routes/portal/dev-session";
import { call } from "./support/worker";

const DEV = { DEV_LOGIN: "true", APP_ENV: "development" } as const;

describe("GET /byok: the BYOK page", () => {
  it("is public HTML under a strict, nonce-based CSP", async () => {
    const r = await call("GET", "/byok", { token: null });
    expect(r.status).toBe(200);
    expect(r.res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(r.res.headers.get("cache-control")).toBe("no-store");
    const csp = r.res.headers.get("content-security-policy")!;
    const nonce = /script-src 'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    expect(nonce).toBeDefined();
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`style-src 'nonce-${nonce}'`);
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("form-action 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain(`frame-ancestors 'self' ${getConfig(env as Bindings).corsOrigins.join(" ")}`);
    // The page's script and stylesheet are static assets of this origin, loaded by tags carrying the nonce;
    // nothing is inline and nothing loads from elsewhere.
    const tags = r.text.match(/<(script|link|img|style|iframe)\b[^>]*>/g)!;
    expect(tags).toEqual([
      `<link nonce="${nonce}" rel="stylesheet" href="/assets/byok.css">`,
      `<script nonce="${nonce}" type="module" src="/assets/byok.js">`,
    ]);
    expect(r.text).toContain(`src="/assets/byok.js"></script>`); // no inline code
    expect(r.text).not.toMatch(/\son[a-z]+=/); // no inline handlers (CSP would block them)
  });

  it("gets a new nonce per response", async () => {
    const a = await call("GET", "/byok", { token: null });
    const b = await call("GET", "/byok", { token: null });
    expect(a.res.headers.get("content-security-policy")).not.toBe(b.res.headers.get("content-security-policy"));
  });

  it("has labelled key fields that browsers do not autocomplete, and live regions for messages", async () => {
    const { text } = await call("GET", "/byok", { token: null });
    for (const id of ["key-openai", "key-anthropic", "key-other", "svc-other"]) {
      expect(text).toContain(`<label for="${id}">`);
      expect(text).toMatch(new RegExp(`<input id="${id}"[^>]*autocomplete="off"`));
    }
    expect(text).toMatch(/<input id="key-openai" name="api_key" type="password"/);
    expect(text).toContain('role="status" aria-live="polite"');
    expect(text).toContain('role="alert" aria-live="assertive"');
  });

  it("escapes every value it interpolates (the template does, not the caller)", async () => {
    const page = String(
      await byokPage({
        nonce: 'n"><script>x()</script>',
        devLogin: false,
        portalOrigins: ['a" b'],
        cacheTtlMs: 30_000,
      }),
    );
    expect(page).not.toContain("<script>x()");
    expect(page).toContain('nonce="n&quot;&gt;&lt;script&gt;x()&lt;/script&gt;"');
    expect(page).toContain('data-portal-origins="a&quot; b"');
  });

  it("hides the dev sign-in unless DEV_LOGIN is on", async () => {
    expect((await call("GET", "/byok", { token: null })).text).toContain('data-dev-login="false"');
    expect((await call("GET", "/byok", { token: null, env: DEV })).text).toContain('data-dev-login="true"');
  });
});

describe("POST /dev/session: the development sign-in", () => {
  it("does not exist unless DEV_LOGIN is on: 404 problem+json, as an unknown route answers a signed-in caller", async () => {
    const r = await call("POST", "/dev/session", { token: null });
    const unknown = await call("POST", "/no/such/route");
    expect(r.status).toBe(404);
    expect(r.res.headers.get("content-type")).toBe("application/problem+json");
    const { requestId: _a, ...body } = r.json;
    const { requestId: _b, ...other } = unknown.json;
    expect(body).toEqual(other);
    expect(body).toMatchObject({ code: "not_found", detail: "No such route." });
  });

  it("mints a short-lived HS256 admin token for the dev tenant that the API accepts", async () => {
    const r = await call("POST", "/dev/session", { token: null, env: DEV });
    expect(r.status).toBe(201);
    expect(r.res.headers.get("cache-control")).toBe("no-store");
    expect(r.json).toMatchObject({
      token_type: "Bearer",
      expires_in: DEV_SESSION_SECONDS,
      tenant_id: DEV_TENANT_ID,
      roles: ["admin"],
    });
    const claims = decodeJwt(r.json.token);
    expect(claims).toMatchObject({
      iss: env.JWT_ISSUER,
      aud: env.JWT_AUDIENCE,
      tenant_id: DEV_TENANT_ID,
      roles: ["admin"],
      sub: "dev-admin",
    });
    expect(claims.exp! - claims.iat!).toBe(DEV_SESSION_SECONDS);

    const token = r.json.token as string;
    const stored = await call("POST", "/vault/keys/openai", {
      token,
      env: DEV,
      body: { service: "openai", api_key: "sk-proj-devSessionKey0123456789abcdDEV1" },
    });
    expect(stored.status).toBe(201);
    expect((await call("GET", "/vault/keys", { token, env: DEV })).json.keys).toContain("openai");
    expect((await call("DELETE", "/vault/keys/openai", { token, env: DEV })).status).toBe(200);
  });

  it("is not offered without an HS256 secret (JWKS configuration)", async () => {
    const jwks = { ...DEV, JWT_SECRET: undefined, JWT_JWKS_URL: "https://auth.example/.well-known/jwks.json" };
    expect((await call("POST", "/dev/session", { token: null, env: jwks })).status).toBe(404);
    expect((await call("GET", "/byok", { token: null, env: jwks })).text).toContain('data-dev-login="false"');
  });

  it.each([
    ["APP_ENV=production", { DEV_LOGIN: "true", APP_ENV: "production" }],
    ["APP_ENV unset (production is the default)", { DEV_LOGIN: "true", APP_ENV: undefined }],
  ])("cannot exist in a production configuration: %s", async (_name, settings) => {
    const e = { ...env, ...settings } as Bindings;
    expect(() => getConfig(e)).toThrow(ConfigError);
    try {
      getConfig(e);
    } catch (err) {
      expect((err as ConfigError).setting).toBe("DEV_LOGIN");
    }
    const r = await call("POST", "/dev/session", { token: null, env: settings });
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ code: "config_invalid", detail: "setting DEV_LOGIN is missing or invalid" });
    expect(r.text).not.toContain("token");
  });
});
