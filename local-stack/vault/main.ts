// CLI: run the Vault stand-in in the foreground for local development.
//   tsx local-stack/vault/main.ts --port 8200 --data-file .local/vault.json --root-token dev-root
// AppRole credentials come from VAULT_STANDIN_ROLE_ID / VAULT_STANDIN_SECRET_ID
// (environment, not argv, so they stay out of `ps`).
import { parseArgs } from "node:util";
import { gatewayPolicy, POLICY_NAME } from "../../scripts/vault-setup";
import { startVault } from "./server";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8200" },
    host: { type: "string", default: "127.0.0.1" },
    "data-file": { type: "string" },
    "root-token": { type: "string" },
    mount: { type: "string", multiple: true },
  },
  strict: true,
});

const rootToken = values["root-token"] ?? process.env.VAULT_STANDIN_ROOT_TOKEN;
if (!rootToken) {
  console.error("vault stand-in: --root-token (or VAULT_STANDIN_ROOT_TOKEN) is required");
  process.exit(2);
}
const port = Number.parseInt(values.port, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`vault stand-in: invalid --port ${values.port}`);
  process.exit(2);
}
const roleId = process.env.VAULT_STANDIN_ROLE_ID;
const secretId = process.env.VAULT_STANDIN_SECRET_ID;
const ttl = process.env.VAULT_STANDIN_TOKEN_TTL ? Number.parseInt(process.env.VAULT_STANDIN_TOKEN_TTL, 10) : undefined;

const vault = await startVault({
  port,
  host: values.host,
  rootToken,
  dataFile: values["data-file"],
  mounts: values.mount,
  // The role's tokens carry the gateway's policy (policies/brain-gateway.hcl), as after `npm run vault:setup`.
  policies: roleId && secretId ? { [POLICY_NAME]: gatewayPolicy() } : undefined,
  appRole: roleId && secretId ? { roleId, secretId, tokenTtlSeconds: ttl, policies: [POLICY_NAME] } : undefined,
});
// The URL alone on stdout, so scripts can read it; the rest goes to stderr.
console.log(vault.url);
console.error(
  `vault stand-in listening on ${vault.url}${values["data-file"] ? ` (data: ${values["data-file"]})` : " (in memory)"}`,
);

let closing = false;
const shutdown = (signal: string) => {
  if (closing) return;
  closing = true;
  console.error(`vault stand-in: ${signal}, closing`);
  vault.close().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error("vault stand-in: close failed", err);
      process.exit(1);
    },
  );
};
process.on("SIGINT", () => shutdown("SIGINT"));
process.on("SIGTERM", () => shutdown("SIGTERM"));
