import { API_KEY_RATE_LIMIT_TIERS, isApiKeyRateLimit } from "../../api-keys/rate-limit";
import { z } from "../../lib/openapi";
import { storableText } from "../../lib/text";
import { AGENT_SLUG } from "../agents/agents.schemas";

const MAX_LISTED = 100;

const unique = (list: string[]) => new Set(list).size === list.length;

export const CreateApiKeyBody = z
  .strictObject({
    name: storableText(z.string("name must be a string"))
      .trim()
      .min(1, "name is required")
      .max(100, "name is at most 100 characters"),
    expires_at: z.iso
      .datetime({ offset: true, message: "expires_at must be an ISO 8601 date-time with a time zone" })
      .refine((s) => Date.parse(s) > Date.now(), "expires_at must be in the future")
      .nullish()
      .openapi({ example: "2027-06-30T00:00:00Z" }),
    allowed_models: z
      .array(
        storableText(z.string()).min(1, "a model must not be empty").max(256, "a model is at most 256 characters"),
        "allowed_models must be an array of model names",
      )
      .max(MAX_LISTED, `allowed_models has at most ${MAX_LISTED} entries`)
      .refine(unique, "allowed_models must not repeat a model")
      .nullish()
      .openapi({ example: ["gpt-4o-mini"], description: "Provider models the key may call on /v1." }),
    allowed_agents: z
      .array(
        z.string().regex(AGENT_SLUG, "an agent must be an agent_id (a slug)"),
        "allowed_agents must be an array of agent ids",
      )
      .max(MAX_LISTED, `allowed_agents has at most ${MAX_LISTED} entries`)
      .refine(unique, "allowed_agents must not repeat an agent")
      .nullish()
      .openapi({ example: ["support-bot"], description: "Agents the key may call as model `agent:<agent_id>`." }),
    rate_limit_per_minute: z
      .number("rate_limit_per_minute must be a number")
      .refine(isApiKeyRateLimit, `rate_limit_per_minute must be one of ${API_KEY_RATE_LIMIT_TIERS.join(", ")}`)
      .nullish()
      .openapi({ enum: API_KEY_RATE_LIMIT_TIERS, example: 60 }),
  })
  .openapi("CreateApiKeyRequest", {
    description:
      "Without allowed_models and allowed_agents the key may call every model and agent of the tenant; with either, only what they list.",
  });

export const ApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    key_hint: z.string().openapi({ example: "bgk_****x9Qa" }),
    status: z.enum(["active", "expired", "revoked"]),
    allowed_models: z.array(z.string()).nullable(),
    allowed_agents: z.array(z.string()).nullable(),
    rate_limit_per_minute: z.number().int().nullable(),
    expires_at: z.string().nullable(),
    last_used_at: z.string().nullable().openapi({ description: "Updated at most once a minute." }),
    created_at: z.string(),
    created_by: z.string().nullable(),
    revoked_at: z.string().nullable(),
    revoked_by: z.string().nullable(),
  })
  .openapi("ApiKey");

export const CreatedApiKey = ApiKeySchema.extend({
  key: z.string().openapi({
    description: "The key itself, shown this once: only its hash is stored.",
    example: "bgk_0123456789ABCDEFGHIJabcdefghij0123456789x9Qa",
  }),
}).openapi("CreatedApiKey");

export const ApiKeyIdParam = z.object({
  id: z.uuid("id must be an API key id (a UUID)").openapi({ param: { name: "id", in: "path" } }),
});

export const ListApiKeysQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(50)
    .openapi({ param: { name: "limit", in: "query" } }),
  cursor: z
    .uuid("cursor is the next_cursor of a previous page")
    .optional()
    .openapi({ param: { name: "cursor", in: "query" } }),
});

export const ApiKeyList = z
  .object({ items: z.array(ApiKeySchema), next_cursor: z.string().nullable() })
  .openapi("ApiKeyList");
