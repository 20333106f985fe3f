import type { Context } from "hono";
import type { AuditLog } from "../audit/audit-log";
import type { Config } from "../config";
import { EMBEDDING_DIMENSIONS } from "../db/schema";
import type { AppEnv } from "../env";
import { ApiError } from "../errors/problem";
import type { Logger } from "../lib/logger";
import { ProviderError, providerFailureCode, reportProviderError } from "../llm/errors";
import type { FetchFn } from "../llm/http";
import { providerClient } from "../llm/providers";
import { recordKeyUse, requireProviderKey } from "../llm/key-use";
import type { Usage } from "../llm/types";
import type { Tenant } from "../tenant";
import { INPUTS_PER_CALL } from "./chunking";
import type { EmbeddingChoice, EmbeddingProvider } from "./settings";

/** What calling the tenant's provider needs from the request (chat's deps are the same). */
export interface EmbedDeps {
  config: Config;
  tenant: Tenant;
  audit: AuditLog;
  logger: Logger;
  fetch?: FetchFn;
}

/** This request's deps for provider calls: the tenant's stores were built once, by `authenticate`. */
export const embedDepsOf = (c: Context<AppEnv>): EmbedDeps => ({
  config: c.get("config"),
  tenant: c.get("tenant"),
  audit: c.get("audit"),
  logger: c.get("logger"),
});

/** Embedding usage as the API reports it: embeddings consume prompt tokens only. */
export const embeddingUsageBody = (u: Usage) => ({ prompt_tokens: u.promptTokens, total_tokens: u.totalTokens });

/** What embeds for a choice: the provider whose key is used, and the model (on Azure, the deployment). */
export function embeddingTarget(
  config: Config,
  choice: EmbeddingChoice,
): { provider: EmbeddingProvider; model: string } {
  return choice.provider === "azure-openai"
    ? { provider: "azure-openai", model: choice.deployment }
    : { provider: "openai", model: config.providers.embeddingModel };
}

/**
 * The tenant's key for its embedding choice (422 when it has none, or it expired): what an upload
 * taken off the request checks first, as an embedding within the request would.
 */
export async function requireEmbeddingKey(deps: EmbedDeps): Promise<void> {
  const { provider } = embeddingTarget(deps.config, await deps.tenant.knowledgeSettings.embedding());
  await requireProviderKey(deps, provider);
}

/** Vectors of another width cannot be stored (knowledge_base is vector(EMBEDDING_DIMENSIONS)) nor searched. */
function widthError(provider: EmbeddingProvider, model: string, width: number): ApiError {
  if (provider === "azure-openai") {
    return new ApiError(
      "provider_misconfigured",
      `The Azure OpenAI deployment ${model} returns ${width}-dimensional vectors; knowledge is stored as ${EMBEDDING_DIMENSIONS}-dimensional. ` +
        `An admin must choose a deployment of text-embedding-3-small (or another model answering ${EMBEDDING_DIMENSIONS} dimensions) at PUT /knowledge/settings.`,
    );
  }
  return new ApiError(
    "upstream_error",
    `The embedding model returned vectors that are not ${EMBEDDING_DIMENSIONS}-dimensional.`,
  );
}

/**
 * Embeds texts with the tenant's own key for its embedding choice (`choice`, or the tenant's
 * knowledge settings when not given): OpenAI's EMBEDDING_MODEL, or its Azure OpenAI embeddings
 * deployment. Vectors of any other width than EMBEDDING_DIMENSIONS are refused.
 * Records one `key.use` row (vault_version, usage, and `attribution`: e.g. the agent a retrieval
 * query is for) whatever the outcome; provider failures become the API's provider_* errors.
 */
export async function embedTexts(
  deps: EmbedDeps,
  texts: string[],
  purpose: "embedding" | "retrieval",
  attribution: Record<string, unknown> = {},
  choice?: EmbeddingChoice,
): Promise<{ vectors: number[][]; usage: Usage }> {
  const { provider, model } = embeddingTarget(deps.config, choice ?? (await deps.tenant.knowledgeSettings.embedding()));
  const key = await requireProviderKey(deps, provider);
  const client = providerClient(deps.config, provider, key, deps.fetch);
  const usage: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  const vectors: number[][] = [];
  let answeredBy: string | undefined;
  try {
    for (let i = 0; i < texts.length; i += INPUTS_PER_CALL) {
      const out = await client.embed(model, texts.slice(i, i + INPUTS_PER_CALL));
      const wrong = out.vectors.find((v) => v.length !== EMBEDDING_DIMENSIONS);
      if (wrong) throw widthError(provider, model, wrong.length);
      vectors.push(...out.vectors);
      usage.promptTokens += out.usage.promptTokens;
      usage.totalTokens += out.usage.totalTokens;
      answeredBy = out.model ?? answeredBy;
    }
  } catch (err) {
    recordKeyUse(deps.audit, deps.tenant, {
      key,
      purpose,
      model,
      usage,
      answeredBy,
      outcome: "error",
      extra: { ...attribution, error: providerFailureCode(err) },
    });
    if (err instanceof ProviderError) throw reportProviderError(err, deps.logger);
    throw err;
  }
  recordKeyUse(deps.audit, deps.tenant, {
    key,
    purpose,
    model,
    usage,
    answeredBy,
    outcome: "success",
    extra: { ...attribution, inputs: texts.length },
  });
  return { vectors, usage };
}
