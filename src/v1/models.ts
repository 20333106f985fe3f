import { PROVIDER_IDS, type ProviderId } from "../llm/catalog";
import { deploymentOf, LISTED_MODELS } from "../llm/models";
import type { Tenant } from "../tenant";
import { agentModelId } from "./agents";

/** Agents listed by GET /v1/models at most (one database call; more are still callable by id). */
export const MAX_LISTED_AGENTS = 1000;

const isProvider = (service: string): service is ProviderId => (PROVIDER_IDS as string[]).includes(service);

export interface OpenAiModel {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

/**
 * GET /v1/models: the listed models of every provider the tenant stores a key for (for Azure OpenAI,
 * `azure-openai/<the stored deployment>`), then its active agents as `agent:<agent_id>` (owned by
 * `tenant`, created when the agent was).
 */
export async function listModels(tenant: Tenant): Promise<{ providers: ProviderId[]; data: OpenAiModel[] }> {
  const [keys, agents] = await Promise.all([tenant.keys.list(), tenant.agents.list(MAX_LISTED_AGENTS)]);
  const providers = keys.map((k) => k.service).filter(isProvider);
  const seconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
  const data: OpenAiModel[] = [
    ...providers.flatMap((provider) =>
      LISTED_MODELS[provider].map((m) => ({
        id: m.id,
        object: "model" as const,
        created: seconds(`${m.released}T00:00:00Z`),
        owned_by: provider,
      })),
    ),
    // A provider whose models are the tenant's deployments: the one stored with its key.
    ...keys.flatMap((k) => {
      const deployment = k.settings?.deployment;
      return isProvider(k.service) && deployment && deploymentOf(`${k.service}/${deployment}`)
        ? [
            {
              id: `${k.service}/${deployment}`,
              object: "model" as const,
              created: seconds(k.updated_at),
              owned_by: k.service,
            },
          ]
        : [];
    }),
    ...agents.items
      .filter((a) => a.is_active)
      .map((a) => ({
        id: agentModelId(a.agent_id),
        object: "model" as const,
        created: seconds(a.created_at),
        owned_by: "tenant",
      })),
  ];
  return { providers, data };
}
