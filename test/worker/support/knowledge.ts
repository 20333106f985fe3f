import type { ProviderId } from "../../../src/llm/catalog";
import { call } from "./worker";

/** A well-formed OpenAI key for the stand-in; `word` lets tests tell keys apart (or provoke revoked/ratelimited/overloaded). */
export const openaiKey = (word: string) =>
  `sk-proj-${word}${"0123456789abcdefghij".slice(0, Math.max(0, 24 - word.length))}KEYS`;
export const anthropicKey = (word: string) =>
  `sk-ant-api03-${word}${"0123456789abcdefghij".slice(0, Math.max(0, 24 - word.length))}KEYS`;

/**
 * Per provider, a key the stand-in accepts and a model: providers.test.ts chats
 * with every registered provider, and a provider without a row here does not compile.
 */
export const TEST_PROVIDERS: Record<ProviderId, { key: (word: string) => string; model: string }> = {
  openai: { key: openaiKey, model: "gpt-4o-mini" },
  anthropic: { key: anthropicKey, model: "claude-sonnet-4-5" },
};

/** Stores a provider key for the tenant as its admin. */
export async function storeKey(tenant: string, service: ProviderId, apiKey: string): Promise<void> {
  const r = await call("POST", `/vault/keys/${service}`, { as: { tenant }, body: { service, api_key: apiKey } });
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
