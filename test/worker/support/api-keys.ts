import { call } from "./worker";

/** Creates a tenant API key as the tenant's admin; returns the answer (with the key, shown this once). */
export async function createApiKey(tenant: string, body: Record<string, unknown> = {}): Promise<any> {
  const r = await call("POST", "/api-keys", { as: { tenant }, body: { name: "CI", ...body } });
  if (r.status !== 201) throw new Error(`creating API key: ${r.status} ${r.text}`);
  return r.json;
}
