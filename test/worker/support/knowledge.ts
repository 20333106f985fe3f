import { env } from "cloudflare:test";
import type { ProviderId } from "../../../src/llm/catalog";
import { call } from "./worker";

/** A well-formed OpenAI key for the stand-in; `word` lets tests tell keys apart (or provoke revoked/ratelimited/overloaded). */
export const openaiKey = (word: string) =>
  `sk-proj-${word}${"0123456789abcdefghij".slice(0, Math.max(0, 24 - word.length))}KEYS`;
export const anthropicKey = (word: string) =>
  `sk-ant-api03-${word}${"0123456789abcdefghij".slice(0, Math.max(0, 24 - word.length))}KEYS`;

/** A well-formed Azure OpenAI resource key for the stand-in (84 letters and digits); `word`: letters and digits only. */
export const azureKey = (word: string) =>
  `${word}${"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ".repeat(2)}`.slice(0, 84);

/** The stand-in as a tenant's Azure OpenAI resource: its endpoint, a chat deployment and an API version it serves. */
export const azureFields = (o: { deployment?: string; api_version?: string } = {}) => ({
  endpoint: env.TEST_AZURE_ENDPOINT,
  deployment: o.deployment ?? "gpt-4o-mini",
  api_version: o.api_version ?? "2024-10-21",
});

/**
 * Per provider, a key the stand-in accepts, a model, the credential's other fields if it has
 * any, and the name a call's key.use row records when it is not the model (a deployment's address):
 * providers.test.ts chats with every registered provider, and a provider without a row here
 * does not compile.
 */
export const TEST_PROVIDERS: Record<
  ProviderId,
  { key: (word: string) => string; model: string; fields?: () => Record<string, string>; recorded?: string }
> = {
  openai: { key: openaiKey, model: "gpt-4o-mini" },
  anthropic: { key: anthropicKey, model: "claude-sonnet-4-5" },
  "azure-openai": { key: azureKey, model: "gpt-4o-mini", fields: azureFields, recorded: "azure-openai/gpt-4o-mini" },
};

/** Stores a provider key (with its credential's other fields, for a provider that has them) as the tenant's admin. */
export async function storeKey(
  tenant: string,
  service: ProviderId,
  apiKey: string,
  fields = TEST_PROVIDERS[service].fields?.() ?? {},
): Promise<void> {
  const r = await call("POST", `/vault/keys/${service}`, {
    as: { tenant },
    body: { service, api_key: apiKey, ...fields },
  });
  if (r.status >= 300) throw new Error(`storing ${service} key: ${r.status} ${r.text}`);
}

/** Creates an agent as the tenant's admin. */
export async function createAgent(tenant: string, body: Record<string, unknown>): Promise<any> {
  const r = await call("POST", "/agents", { as: { tenant }, body: { name: "Agent", ...body } });
  if (r.status !== 201) throw new Error(`creating agent: ${r.status} ${r.text}`);
  return r.json;
}

/** Adds a document as the tenant's admin; returns its document_id. */
export async function addDocument(tenant: string, body: Record<string, unknown>): Promise<string> {
  const r = await call("POST", "/knowledge/documents", { as: { tenant }, body });
  if (r.status !== 201) throw new Error(`adding document: ${r.status} ${r.text}`);
  return r.json.document_id;
}
