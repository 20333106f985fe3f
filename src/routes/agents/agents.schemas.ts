import { KNOWN_TOOLS } from "../../agents/validation";
import { PROVIDER_IDS } from "../../llm/catalog";
import { z } from "../../lib/openapi";
import { storableJson, storableText } from "../../lib/text";

/** A tenant's handle for an agent: lowercase slug, 1–64 characters, no leading or trailing hyphen. */
export const AGENT_SLUG = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
const slugMessage =
  "agent_id must be a slug: lowercase letters, digits and -, 1-64 characters, not starting or ending with -";

export const AgentIdSchema = z.string().regex(AGENT_SLUG, slugMessage).openapi({ example: "support-bot" });

export const AgentParam = z.object({
  agent_id: z
    .string()
    .regex(AGENT_SLUG, slugMessage)
    .openapi({ param: { name: "agent_id", in: "path" }, example: "support-bot" }),
});

const MAX_AGENT_METADATA_BYTES = 8192;

/**
 * The plan's `metadata`: any JSON object the tenant wants kept with the agent, at most 8 KiB
 * (values are whatever the JSON body held: z.unknown, since z.json() has no OpenAPI form).
 */
const AgentMetadata = storableJson(
  z
    .record(
      z.string().min(1, "metadata keys must not be empty").max(64, "metadata keys are at most 64 characters"),
      z.unknown(),
    )
    .refine(
      (m) => new TextEncoder().encode(JSON.stringify(m)).byteLength <= MAX_AGENT_METADATA_BYTES,
      "metadata is at most 8 KiB of JSON",
    ),
).openapi("AgentMetadata", { example: { team: "support", tier: "gold" } });

const twoDecimals = (t: number) => Math.abs(Math.round(t * 100) - t * 100) < 1e-6;

const fields = {
  name: storableText(z.string()).trim().min(1, "name is required").max(200, "name is at most 200 characters"),
  description: storableText(z.string()).max(2000, "description is at most 2000 characters").nullable(),
  system_prompt: storableText(z.string())
    .min(1, "system_prompt must not be empty")
    .max(20_000, "system_prompt is at most 20000 characters"),
  llm_provider: z.enum(PROVIDER_IDS, `llm_provider must be one of: ${PROVIDER_IDS.join(", ")}`),
  llm_model: z
    .string()
    .min(1, "llm_model must not be empty")
    .max(100, "llm_model is at most 100 characters")
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]*$/, "llm_model must be a model id such as gpt-4o-mini"),
  temperature: z
    .number()
    .min(0, "temperature must be between 0 and 2")
    .max(2, "temperature must be between 0 and 2")
    .refine(twoDecimals, "temperature has at most two decimals"),
  max_tokens: z
    .number()
    .int("max_tokens must be an integer")
    .min(1, "max_tokens must be at least 1")
    .max(128_000, "max_tokens must be at most 128000"),
  enabled_tools: z
    .array(z.enum(KNOWN_TOOLS, `enabled_tools entries must be one of: ${KNOWN_TOOLS.join(", ")}`))
    .max(KNOWN_TOOLS.length, `enabled_tools has at most ${KNOWN_TOOLS.length} entries`)
    .refine((t) => new Set(t).size === t.length, "enabled_tools must not repeat a tool"),
  is_active: z.boolean(),
  metadata: AgentMetadata,
};

export const CreateAgentBody = z
  .strictObject({
    agent_id: AgentIdSchema,
    name: fields.name.optional().openapi({ description: "Defaults to agent_id." }),
    description: fields.description.optional(),
    system_prompt: fields.system_prompt.optional().openapi({ default: "You are a helpful assistant." }),
    llm_provider: fields.llm_provider.optional().openapi({ default: "openai" }),
    llm_model: fields.llm_model.optional().openapi({ default: "gpt-4o-mini" }),
    temperature: fields.temperature.optional().openapi({ default: 0.7 }),
    max_tokens: fields.max_tokens
      .optional()
      .openapi({ default: 1024, description: "Output tokens; the model family's ceiling applies." }),
    enabled_tools: fields.enabled_tools.optional().openapi({ default: [] }),
    is_active: fields.is_active.optional().openapi({ default: true }),
    metadata: fields.metadata.optional(),
  })
  .openapi("CreateAgentRequest");

export const UpdateAgentBody = z
  .strictObject({
    name: fields.name.optional(),
    description: fields.description.optional(),
    system_prompt: fields.system_prompt.optional(),
    llm_provider: fields.llm_provider.optional(),
    llm_model: fields.llm_model.optional(),
    temperature: fields.temperature.optional(),
    max_tokens: fields.max_tokens.optional(),
    enabled_tools: fields.enabled_tools.optional(),
    is_active: fields.is_active.optional(),
    metadata: fields.metadata.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, "the body must change at least one field")
  .openapi("UpdateAgentRequest");

export const AgentSchema = z
  .object({
    agent_id: z.string(),
    name: z.string(),
    description: z.string().nullable(),
    system_prompt: z.string(),
    llm_provider: z.enum(PROVIDER_IDS),
    llm_model: z.string(),
    temperature: z.number(),
    max_tokens: z.number().int(),
    enabled_tools: z.array(z.string()),
    is_active: z.boolean(),
    metadata: z.record(z.string(), z.unknown()),
    created_by: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("Agent");

export const ListAgentsQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(50)
    .openapi({ param: { name: "limit", in: "query" } }),
  cursor: z
    .string()
    .regex(AGENT_SLUG, "cursor is the next_cursor of a previous page")
    .optional()
    .openapi({ param: { name: "cursor", in: "query" } }),
});

export const AgentList = z
  .object({ items: z.array(AgentSchema), next_cursor: z.string().nullable() })
  .openapi("AgentList");

export const DeleteAgentResponse = z
  .object({
    status: z.literal("success"),
    agent_id: z.string(),
    deleted: z.literal(true),
    knowledge_chunks_deleted: z.number().int(),
  })
  .openapi("DeleteAgentResponse");
