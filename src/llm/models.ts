import { PROVIDER_CATALOG, PROVIDER_IDS, type ProviderId } from "./catalog";

/**
 * What the gateway knows about each provider's models: each model family's
 * output-token ceiling and temperature range, the model-id prefix a provider
 * owns, and the embedding models' native dimensions. Checked when an agent is
 * written, so a bad setting is a 400 at save time rather than a provider error at chat time.
 */

export interface ModelFamily {
  /** Model ids starting with this prefix belong to the family (longest prefix wins). */
  prefix: string;
  /** The largest `max_tokens` (output tokens) the family accepts. */
  maxOutputTokens: number;
}

/** What the gateway knows of one provider's models. */
interface ProviderModels {
  families: ModelFamily[];
  fallbackMaxOutputTokens: number;
  maxTemperature: number;
  /** Every model id of this provider starts with it, and no other provider's does. */
  modelPrefix?: string;
  /**
   * The provider's models are the tenant's own deployments (Azure OpenAI): on /v1 the model
   * `<provider id>/<deployment>` names one. An agent calls the deployment stored with the key,
   * and its `llm_model` names the model that deployment runs (its limits apply).
   */
  deployments?: true;
}

/** OpenAI's models, served by OpenAI and by Azure OpenAI deployments. */
const OPENAI_MODELS: ProviderModels = {
  families: [
    { prefix: "gpt-3.5-turbo", maxOutputTokens: 4096 },
    { prefix: "gpt-4-turbo", maxOutputTokens: 4096 },
    { prefix: "gpt-4", maxOutputTokens: 8192 },
    { prefix: "gpt-4o", maxOutputTokens: 16_384 },
    { prefix: "gpt-4.1", maxOutputTokens: 32_768 },
    { prefix: "gpt-5", maxOutputTokens: 128_000 },
    { prefix: "o1", maxOutputTokens: 100_000 },
    { prefix: "o3", maxOutputTokens: 100_000 },
    { prefix: "o4", maxOutputTokens: 100_000 },
  ],
  fallbackMaxOutputTokens: 4096,
  maxTemperature: 2,
};

/**
 * Output ceilings from the providers' model pages. Unknown models of a provider
 * get its conservative fallback, so a new model works up to a safe bound.
 */
const FAMILIES: Record<ProviderId, ProviderModels> = {
  openai: OPENAI_MODELS,
  anthropic: {
    families: [
      { prefix: "claude-3-", maxOutputTokens: 4096 },
      { prefix: "claude-3-5-", maxOutputTokens: 8192 },
      { prefix: "claude-3-7-", maxOutputTokens: 64_000 },
      { prefix: "claude-sonnet-4", maxOutputTokens: 64_000 },
      { prefix: "claude-haiku-4", maxOutputTokens: 64_000 },
      { prefix: "claude-opus-4", maxOutputTokens: 32_000 },
      { prefix: "claude-opus-4-5", maxOutputTokens: 64_000 },
    ],
    fallbackMaxOutputTokens: 4096,
    // Anthropic's Messages API accepts temperature 0–1 only.
    maxTemperature: 1,
    modelPrefix: "claude",
  },
  "azure-openai": { ...OPENAI_MODELS, deployments: true },
};

/** The output ceiling for `model` of `provider`. */
export function maxOutputTokens(provider: ProviderId, model: string): number {
  const { families, fallbackMaxOutputTokens } = FAMILIES[provider];
  const family = families
    .filter((f) => model.startsWith(f.prefix))
    .sort((a, b) => b.prefix.length - a.prefix.length)[0];
  return family?.maxOutputTokens ?? fallbackMaxOutputTokens;
}

export function maxTemperature(provider: ProviderId): number {
  return FAMILIES[provider].maxTemperature;
}

/** The provider owning the model's prefix, if any provider owns it. */
function prefixOwner(model: string): ProviderId | undefined {
  return PROVIDER_IDS.find((p) => {
    const owned = FAMILIES[p].modelPrefix;
    return owned !== undefined && model.startsWith(owned);
  });
}

/**
 * The provider and deployment a /v1 model id `<provider id>/<deployment>` names (a provider whose
 * models are the tenant's deployments), or null for any other id.
 */
export function deploymentOf(model: string): { provider: ProviderId; deployment: string } | null {
  const slash = model.indexOf("/");
  if (slash < 1) return null;
  const provider = PROVIDER_IDS.find((p) => FAMILIES[p].deployments && p === model.slice(0, slash));
  return provider ? { provider, deployment: model.slice(slash + 1) } : null;
}

/**
 * Whether the provider's models are the tenant's deployments (Azure OpenAI): the name a call gives (a
 * deployment, or an agent's `llm_model`) does not decide which model answers; the deployment does.
 */
export const servesDeployments = (provider: ProviderId): boolean => FAMILIES[provider].deployments === true;

/**
 * The name a call is recorded under on its key.use row, and so grouped under in `GET /usage`: the
 * model for most providers; for one that serves deployments, the deployment's /v1 address
 * (`azure-openai/chat-prod`), so a deployment never shares a row with another provider's model
 * of the same name (a deployment called `gpt-4o-mini` is not OpenAI's gpt-4o-mini).
 */
export function recordedModel(provider: ProviderId, modelOrDeployment: string): string {
  return servesDeployments(provider) && !deploymentOf(modelOrDeployment)
    ? `${provider}/${modelOrDeployment}`
    : modelOrDeployment;
}

/** Why `model` cannot be used with `provider`, or null. Catches the common paste of a model into the wrong provider. */
export function modelProviderProblem(provider: ProviderId, model: string): string | null {
  const addressed = deploymentOf(model);
  if (addressed)
    return `llm_model ${model} is a /v1 deployment address; an agent uses the deployment stored with its ${addressed.provider} key: set llm_provider to ${addressed.provider} and llm_model to the model the deployment runs (e.g. gpt-4o-mini)`;
  const owner = prefixOwner(model);
  const prefix = FAMILIES[provider].modelPrefix;
  if (prefix && owner !== provider)
    return `llm_model ${model} is not an ${PROVIDER_CATALOG[provider].displayName} model (expected ${prefix}-…)`;
  if (owner && owner !== provider)
    return `llm_model ${model} is an ${PROVIDER_CATALOG[owner].displayName} model; set llm_provider to ${owner}`;
  return null;
}

/** Native output dimensions of OpenAI's embedding models. */
export const EMBEDDING_MODEL_DIMENSIONS: Record<string, number> = {
  "text-embedding-3-small": 1536,
  "text-embedding-3-large": 3072,
  "text-embedding-ada-002": 1536,
};

/**
 * The provider a model id belongs to: the one a deployment address names (`azure-openai/…`), the
 * one owning its prefix (`claude…` → anthropic), else the provider that owns none (OpenAI, whose
 * ids have no common prefix). The `/v1` routes route by it.
 */
export function providerOfModel(model: string): ProviderId {
  const addressed = deploymentOf(model);
  if (addressed) return addressed.provider;
  const owner = prefixOwner(model);
  if (owner) return owner;
  const open = PROVIDER_IDS.find((p) => FAMILIES[p].modelPrefix === undefined && !FAMILIES[p].deployments);
  if (!open) throw new Error("no provider without a model prefix");
  return open;
}

/**
 * The models `GET /v1/models` lists for a provider whose key the tenant stores, with their release
 * dates (OpenAI's `created`). Any other id of the provider still works: the provider decides.
 */
export const LISTED_MODELS = {
  openai: [
    { id: "gpt-4o", released: "2024-05-13" },
    { id: "gpt-4o-mini", released: "2024-07-18" },
    { id: "gpt-4.1", released: "2025-04-14" },
    { id: "gpt-4.1-mini", released: "2025-04-14" },
    { id: "text-embedding-3-small", released: "2024-01-25" },
    { id: "text-embedding-3-large", released: "2024-01-25" },
  ],
  anthropic: [
    { id: "claude-opus-4-1", released: "2025-08-05" },
    { id: "claude-sonnet-4-5", released: "2025-09-29" },
    { id: "claude-haiku-4-5", released: "2025-10-15" },
  ],
  // The tenant's own deployments: /v1/models lists the one stored with the key (`azure-openai/<deployment>`).
  "azure-openai": [],
} as const satisfies Record<ProviderId, ReadonlyArray<{ id: string; released: string }>>;

/** The id of a listed model: src/usage/prices.ts must price each one (a type error otherwise). */
export type ListedModelId = (typeof LISTED_MODELS)[ProviderId][number]["id"];
