import { ApiError } from "../errors/problem";
import { agentIdOf } from "../v1/agents";

/**
 * What a verified API key may do, carried on the principal (`principal.apiKey`). Null lists mean no
 * restriction of that kind; if either list is set, the key reaches only what the lists name (a key
 * with only `allowedAgents` calls those agents and no bare model).
 */
export interface ApiKeyGrant {
  id: string;
  name: string;
  allowedModels: string[] | null;
  allowedAgents: string[] | null;
  rateLimitPerMinute: number | null;
}

/** True when the grant lets its key call `model` (a provider model, or `agent:<id>`). */
export function allowsModel(grant: ApiKeyGrant, model: string): boolean {
  if (grant.allowedModels === null && grant.allowedAgents === null) return true;
  const agentId = agentIdOf(model);
  if (agentId !== null) return grant.allowedAgents?.includes(agentId) ?? false;
  return grant.allowedModels?.includes(model) ?? false;
}

/**
 * Refuses (403 `model_not_allowed`) a model or agent the caller's API key is not allowed; a JWT
 * caller has no such limits. Called by /v1 before anything is read or sent.
 */
export function requireModelAllowed(principal: { apiKey?: ApiKeyGrant }, model: string): void {
  const grant = principal.apiKey;
  if (!grant || allowsModel(grant, model)) return;
  const what = agentIdOf(model) === null ? "model" : "agent";
  throw new ApiError("model_not_allowed", `This API key is not allowed to use the ${what} ${model}.`, {
    param: "model",
  });
}
