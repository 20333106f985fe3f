import type { TestProject } from "vitest/node";
import { DEV } from "../local-stack/settings";
import { startLocalStack } from "../local-stack/stack";
import { gatewayPolicy, setupVault } from "../scripts/vault-setup";
import { startJwksServer } from "./jwks-server";
import { startPooledNeon } from "./pooled-neon";

const TEST_NAMESPACE = "admin";

/** Starts the in-memory local stack once for the Worker tests and hands its settings to the Worker's bindings. */
export default async function setup(project: TestProject) {
  const stack = await startLocalStack({ persist: false });
  const jwks = await startJwksServer();
  // TEST_WORDPRESS_URL, TEST_SHOPIFY_URL and TEST_AZURE_ENDPOINT are for the tests only (the Worker reads no such setting).
  project.provide("stackVars", {
    ...stack.vars,
    TEST_WORDPRESS_URL: stack.wordpress.url,
    TEST_SHOPIFY_URL: stack.shopify.url,
    TEST_AZURE_ENDPOINT: stack.llm.azureEndpoint,
  });
  project.provide("vaultRootToken", stack.vaultRootToken!);
  project.provide("gatewayPolicy", gatewayPolicy());
  // A second tenant of Vault (Enterprise / HCP namespace) set up like the root one, to prove namespaces separate.
  await fetch(`${stack.vars.VAULT_ADDR}/v1/sys/namespaces/${TEST_NAMESPACE}`, {
    method: "POST",
    headers: { "X-Vault-Token": stack.vaultRootToken! },
  });
  await setupVault({
    addr: stack.vars.VAULT_ADDR!,
    token: stack.vaultRootToken!,
    namespace: TEST_NAMESPACE,
    fixedCredentials: DEV.vaultAppRole,
  });
  project.provide("jwks", { url: jwks.url, privateKeys: jwks.privateKeys });
  const postgresUrl = process.env.NEON_HTTP_TEST_POSTGRES_URL;
  const pooled = postgresUrl ? await startPooledNeon(postgresUrl) : undefined;
  project.provide("pooledNeonUrl", pooled?.url ?? "");
  return async () => {
    await pooled?.close();
    await jwks.close();
    await stack.close();
  };
}
