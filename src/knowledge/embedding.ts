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

/**
 * Embeds texts with the tenant's own OpenAI key and the configured model.
 * Records one `key.use` row (vault_version, usage, and `attribution`: e.g. the agent a retrieval
 * query is for) whatever the outcome; provider failures become the API's provider_* errors.
 */
export async function embedTexts(
  deps: EmbedDeps,
  texts: string[],
  purpose: "embedding" | "retrieval",
  attribution: Record<string, unknown> = {},
): Promise<{ vectors: number[][]; usage: Usage }> {
  const key = await requireProviderKey(deps, "openai");
  const model = deps.config.providers.embeddingModel;
  const client = providerClient(deps.config, "openai", key, deps.fetch);
  const usage: Usage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
  const vectors: number[][] = [];
  try {
    for (let i = 0; i < texts.length; i += INPUTS_PER_CALL) {
      const out = await client.embed(model, texts.slice(i, i + INPUTS_PER_CALL));
      if (out.vectors.some((v) => v.length !== EMBEDDING_DIMENSIONS)) {
        throw new ApiError(
          "upstream_error",
          `The embedding model returned vectors that are not ${EMBEDDING_DIMENSIONS}-dimensional.`,
        );
      }
      vectors.push(...out.vectors);
      usage.promptTokens += out.usage.promptTokens;
      usage.totalTokens += out.usage.totalTokens;
    }
  } catch (err) {
    recordKeyUse(deps.audit, deps.tenant, {
      key,
      purpose,
      model,
      usage,
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
    outcome: "success",
    extra: { ...attribution, inputs: texts.length },
  });
  return { vectors, usage };
}
