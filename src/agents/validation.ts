import { maxOutputTokens, maxTemperature, modelProviderProblem } from "../llm/models";
import type { AgentFields } from "./agent-store";

/** Tools an agent may enable. Unknown names are refused so a typo does not silently do nothing. */
export const KNOWN_TOOLS = ["knowledge_search", "web_search", "calculator"] as const;

/** The seed's defaults (schema defaults). */
export const AGENT_DEFAULTS = {
  system_prompt: "You are a helpful assistant.",
  llm_provider: "openai",
  llm_model: "gpt-4o-mini",
  temperature: 0.7,
  max_tokens: 1024,
  enabled_tools: [] as string[],
  is_active: true,
  metadata: {} as Record<string, unknown>,
} as const;

export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * Rules that span fields: the model belongs to the provider, max_tokens is
 * within the model family's ceiling, temperature within the provider's range.
 * Run on the merged agent, so a PATCH of one field is checked against the rest.
 */
export function agentProblems(
  a: Pick<AgentFields, "llm_provider" | "llm_model" | "temperature" | "max_tokens">,
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const model = modelProviderProblem(a.llm_provider, a.llm_model);
  if (model) problems.push({ path: "llm_model", message: model });
  const ceiling = maxOutputTokens(a.llm_provider, a.llm_model);
  if (a.max_tokens > ceiling)
    problems.push({ path: "max_tokens", message: `max_tokens must be at most ${ceiling} for ${a.llm_model}` });
  const tMax = maxTemperature(a.llm_provider);
  if (a.temperature > tMax)
    problems.push({ path: "temperature", message: `temperature must be at most ${tMax} for ${a.llm_provider}` });
  return problems;
}
