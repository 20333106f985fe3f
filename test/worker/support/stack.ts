import { env } from "cloudflare:test";
import { neon, neonConfig } from "@neondatabase/serverless";
import { inject } from "vitest";

/** Controls of the Vault stand-in (over HTTP, as tests in workerd can only fetch). */
export const vaultControl = {
  async post(path: string, body?: unknown, method = "POST") {
    const res = await fetch(`${env.VAULT_ADDR}/__standin/${path}`, {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    await res.body?.cancel();
    if (res.status >= 300) throw new Error(`vault control ${path}: ${res.status}`);
  },
  seal: () => vaultControl.post("seal"),
  unseal: () => vaultControl.post("unseal"),
  faults: (spec: Record<string, unknown>) => vaultControl.post("faults", spec, "PUT"),
  clearFaults: () => vaultControl.post("faults", undefined, "DELETE"),
  revokeTokens: () => vaultControl.post("revoke-tokens"),
  /** HA role (sys/health and requests) and whether bad tokens get the legacy bare "permission denied". */
  mode: (m: { ha?: string; legacyTokenErrors?: boolean }) => vaultControl.post("mode", m, "PUT"),
  clearRequests: () => vaultControl.post("requests", undefined, "DELETE"),
  /** Method, path and Vault headers (namespace, X-Vault-Request) of the /v1 calls the stand-in received. */
  async requests(): Promise<
    Array<{ method: string; path: string; namespace: string | null; vaultRequest: string | null }>
  > {
    const res = await fetch(`${env.VAULT_ADDR}/__standin/requests`);
    return ((await res.json()) as { requests: any[] }).requests;
  },
};

/** Controls of the Neon stand-in: fault injection at `/__standin/faults` beside its `/sql`. */
export const neonControl = {
  async send(method: string, body?: unknown) {
    const res = await fetch(new URL("/__standin/faults", env.NEON_FETCH_ENDPOINT!), {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    await res.body?.cancel();
    if (res.status >= 300) throw new Error(`neon control faults: ${res.status}`);
  },
  /** `{hang}`, `{status: 5xx}`, `{cancelled}`, `{latencyMs}`, each optionally with `count`. */
  faults: (spec: Record<string, unknown>) => neonControl.send("PUT", spec),
  clearFaults: () => neonControl.send("DELETE"),
};

/** Raw Vault calls with the root token (Vault's operator), to check what the gateway really stored. */
export async function vaultRaw(
  method: string,
  path: string,
  body?: unknown,
  o: { namespace?: string; token?: string } = {},
): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = { "X-Vault-Token": o.token ?? inject("vaultRootToken") };
  if (body) headers["content-type"] = "application/json";
  if (o.namespace) headers["X-Vault-Namespace"] = o.namespace;
  const res = await fetch(`${env.VAULT_ADDR}/v1/${path}`, {
    method,
    headers,
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

/**
 * An AppRole role of its own (fresh name, so the gateway's token cache is cold for it) whose
 * tokens carry `policy`; returns the Worker settings that log in with it.
 */
export async function appRoleWithPolicy(
  policy: string,
  o: { tokenTtl?: string } = {},
): Promise<{ VAULT_TOKEN: undefined; VAULT_ROLE_ID: string; VAULT_SECRET_ID: string }> {
  const name = `test-${crypto.randomUUID().slice(0, 8)}`;
  const must = (r: { status: number }, what: string) => {
    if (r.status >= 300) throw new Error(`${what}: HTTP ${r.status}`);
  };
  must(await vaultRaw("PUT", `sys/policies/acl/${name}`, { policy }), "policy");
  must(
    await vaultRaw("POST", `auth/approle/role/${name}`, { token_policies: [name], token_ttl: o.tokenTtl ?? "1h" }),
    "role",
  );
  const roleId = (await vaultRaw("GET", `auth/approle/role/${name}/role-id`)).json.data.role_id as string;
  const secretId = (await vaultRaw("POST", `auth/approle/role/${name}/secret-id`)).json.data.secret_id as string;
  return { VAULT_TOKEN: undefined, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: secretId };
}

/** Direct SQL against the test database, to assert rows the Worker wrote. */
export function sql() {
  neonConfig.fetchEndpoint = env.NEON_FETCH_ENDPOINT!;
  return neon(env.DATABASE_URL!);
}

export async function auditRows(tenantId: string): Promise<any[]> {
  return await sql().query(`SELECT * FROM audit_logs WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId]);
}

/** Calls recorded by the LLM provider stand-in (fingerprints of the credentials it received). */
export async function llmCalls(): Promise<
  Array<{
    provider: string;
    path: string;
    keyFingerprint: string;
    model: string | null;
    temperature: number | null;
    maxTokens: number | null;
  }>
> {
  const base = new URL(env.OPENAI_BASE_URL!).origin;
  const res = await fetch(`${base}/__standin/calls`);
  return ((await res.json()) as { calls: any[] }).calls;
}

export async function sha256Hex(s: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
