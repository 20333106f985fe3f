import { env } from "cloudflare:test";
import { neon, neonConfig } from "@neondatabase/serverless";

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

/** Raw Vault calls with the root token, to check what the gateway really stored. */
export async function vaultRaw(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${env.VAULT_ADDR}/v1/${path}`, {
    method,
    headers: { "X-Vault-Token": env.VAULT_TOKEN!, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
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
  Array<{ provider: string; path: string; keyFingerprint: string; model: string | null }>
> {
  const base = new URL(env.OPENAI_BASE_URL!).origin;
  const res = await fetch(`${base}/__standin/calls`);
  return ((await res.json()) as { calls: any[] }).calls;
}

export async function sha256Hex(s: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s));
  return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
