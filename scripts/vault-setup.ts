/**
 * One-time Vault set-up: enables the KV v2 mount the gateway uses. Run against
 * a real Vault with an operator token; never per request.
 *
 *   VAULT_ADDR=https://vault.example.com VAULT_TOKEN=… [VAULT_NAMESPACE=admin] [VAULT_KV_MOUNT=secret] npm run vault:setup
 */
const addr = process.env.VAULT_ADDR?.replace(/\/+$/, "");
const token = process.env.VAULT_TOKEN;
const mount = process.env.VAULT_KV_MOUNT ?? "secret";
if (!addr || !token) {
  console.error("VAULT_ADDR and VAULT_TOKEN (an operator token) must be set.");
  process.exit(2);
}
const headers: Record<string, string> = { "X-Vault-Token": token, "Content-Type": "application/json" };
if (process.env.VAULT_NAMESPACE) headers["X-Vault-Namespace"] = process.env.VAULT_NAMESPACE;

const res = await fetch(`${addr}/v1/sys/mounts/${mount}`, {
  method: "POST",
  headers,
  body: JSON.stringify({ type: "kv", options: { version: "2" }, description: "Brain Gateway tenant keys" }),
});
if (res.status === 204) {
  console.log(`enabled KV v2 at ${mount}/`);
} else {
  const body = (await res.json().catch(() => ({}))) as { errors?: string[] };
  if (res.status === 400 && body.errors?.some((e) => e.includes("path is already in use"))) {
    console.log(`${mount}/ is already mounted; nothing to do`);
  } else {
    // Vault's error messages name paths and policies, not secrets; still, print only the status.
    console.error(`enabling ${mount}/ failed: HTTP ${res.status}`);
    process.exit(1);
  }
}
export {};
