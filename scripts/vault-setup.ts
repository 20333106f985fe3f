/**
 * One-time Vault set-up, run with an operator token (never per request): the KV v2 mount, the
 * gateway's policy (policies/brain-gateway.hcl), AppRole, and the gateway's AppRole role bound
 * to that policy. Idempotent. The local stack runs the same function against the stand-in.
 *
 *   VAULT_ADDR=https://vault.example.com VAULT_TOKEN=… [VAULT_NAMESPACE=admin] [VAULT_KV_MOUNT=secret] \
 *     npm run vault:setup [-- --new-secret-id]
 *
 * Prints the role ID; with --new-secret-id also a new secret ID (stdout, for `wrangler secret put`).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const POLICY_NAME = "brain-gateway";
export const ROLE_NAME = "brain-gateway";
const POLICY_FILE = fileURLToPath(new URL("../policies/brain-gateway.hcl", import.meta.url));

export interface VaultSetupOptions {
  addr: string;
  /** An operator token (create on sys/mounts, sys/policies/acl, sys/auth, auth/approle/role). */
  token: string;
  namespace?: string | undefined;
  mount?: string | undefined;
  /** Tokens the gateway gets live this long (Vault duration); it logs in again before they expire. */
  tokenTtl?: string;
  /** Dev and tests only: fixed AppRole credentials instead of Vault-generated ones. */
  fixedCredentials?: { roleId: string; secretId: string };
  /** Generate a secret ID and return it. */
  newSecretId?: boolean;
  log?: (line: string) => void;
}

/** The repo's policy for a KV mount (the file is written for `secret/`). */
export function gatewayPolicy(mount = "secret"): string {
  return readFileSync(POLICY_FILE, "utf8").replace(/^path "secret\//gm, `path "${mount}/`);
}

/** Runs the set-up; returns the role ID and, when asked for, a secret ID. */
export async function setupVault(o: VaultSetupOptions): Promise<{ roleId: string; secretId?: string }> {
  const log = o.log ?? (() => {});
  const mount = o.mount ?? "secret";
  const base = o.addr.replace(/\/+$/, "");
  const headers: Record<string, string> = { "X-Vault-Token": o.token, "X-Vault-Request": "true" };
  if (o.namespace) headers["X-Vault-Namespace"] = o.namespace;
  const vault = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}/v1/${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    const json = text ? (JSON.parse(text) as { data?: Record<string, unknown>; errors?: string[] }) : {};
    return { status: res.status, json };
  };
  const already = (r: { status: number; json: { errors?: string[] } }) =>
    r.status === 400 && !!r.json.errors?.some((e) => e.includes("path is already in use"));
  const must = (what: string, r: { status: number; json: { errors?: string[] } }) => {
    // Vault's error messages name paths and policies, not secrets; still, report only the status.
    if (r.status >= 300) throw new Error(`vault:setup: ${what} failed: HTTP ${r.status}`);
  };

  const mounted = await vault("POST", `sys/mounts/${mount}`, {
    type: "kv",
    options: { version: "2" },
    description: "Brain Gateway tenant keys",
  });
  if (!already(mounted)) must(`enabling KV v2 at ${mount}/`, mounted);
  log(already(mounted) ? `${mount}/ is already mounted` : `enabled KV v2 at ${mount}/`);

  must("writing the policy", await vault("PUT", `sys/policies/acl/${POLICY_NAME}`, { policy: gatewayPolicy(mount) }));
  log(`wrote policy ${POLICY_NAME}`);

  const approle = await vault("POST", "sys/auth/approle", { type: "approle" });
  if (!already(approle)) must("enabling AppRole", approle);
  log(already(approle) ? "AppRole is already enabled" : "enabled AppRole at approle/");

  must(
    "writing the AppRole role",
    await vault("POST", `auth/approle/role/${ROLE_NAME}`, {
      token_policies: [POLICY_NAME],
      token_ttl: o.tokenTtl ?? "1h",
      token_max_ttl: o.tokenTtl ?? "1h",
    }),
  );
  log(`wrote AppRole role ${ROLE_NAME} (policy ${POLICY_NAME})`);

  if (o.fixedCredentials) {
    const { roleId, secretId } = o.fixedCredentials;
    must("setting the role ID", await vault("POST", `auth/approle/role/${ROLE_NAME}/role-id`, { role_id: roleId }));
    must(
      "setting the secret ID",
      await vault("POST", `auth/approle/role/${ROLE_NAME}/custom-secret-id`, { secret_id: secretId }),
    );
    return { roleId, secretId };
  }
  const read = await vault("GET", `auth/approle/role/${ROLE_NAME}/role-id`);
  must("reading the role ID", read);
  const roleId = String(read.json.data?.role_id ?? "");
  if (!o.newSecretId) return { roleId };
  const created = await vault("POST", `auth/approle/role/${ROLE_NAME}/secret-id`);
  must("creating a secret ID", created);
  return { roleId, secretId: String(created.json.data?.secret_id ?? "") };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const addr = process.env.VAULT_ADDR;
  const token = process.env.VAULT_TOKEN;
  if (!addr || !token) {
    console.error("VAULT_ADDR and VAULT_TOKEN (an operator token) must be set.");
    process.exit(2);
  }
  try {
    const out = await setupVault({
      addr,
      token,
      namespace: process.env.VAULT_NAMESPACE,
      mount: process.env.VAULT_KV_MOUNT,
      newSecretId: process.argv.includes("--new-secret-id"),
      log: (line) => console.error(line),
    });
    console.error(`VAULT_ROLE_ID for the gateway: ${out.roleId}`);
    if (out.secretId) {
      console.error("VAULT_SECRET_ID (stdout; pipe it to `npx wrangler secret put VAULT_SECRET_ID`):");
      console.log(out.secretId);
    } else {
      console.error("Create a secret ID with: npm run vault:setup -- --new-secret-id");
    }
  } catch (err) {
    console.error((err as Error).message);
    process.exit(1);
  }
}
