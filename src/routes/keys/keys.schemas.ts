import { AzureSettings } from "../../llm/azure-openai";
import { z } from "../../lib/openapi";
import { storableJson, storableText } from "../../lib/text";
import { EXPIRING_SOON_DAYS } from "../../keys/key-store";
import { SERVICE_NAME } from "../../vault/paths";

/** Metadata keys the server owns; they cannot be set through `metadata`. */
const RESERVED_METADATA = new Set([
  "api_key",
  "key",
  "secret",
  "created_at",
  "created_by",
  "updated_at",
  "key_hint",
  "version",
  "service",
  "tenant_id",
  "vault_path",
  "endpoint",
  "deployment",
  "api_version",
]);
const MAX_METADATA_BYTES = 4096;

export const ServiceParam = z.object({
  service: z
    .string()
    .regex(SERVICE_NAME, "service must be lowercase letters, digits, - or _ (at most 64)")
    .openapi({ param: { name: "service", in: "path" }, example: "openai" }),
});

export const KeyMetadata = storableJson(
  z
    .record(
      z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "metadata keys are 1-64 letters, digits, _ . or -"),
      z.union([z.string().max(256), z.number(), z.boolean(), z.null()]),
    )
    .refine((m) => Object.keys(m).length <= 20, "metadata has at most 20 entries")
    .refine(
      (m) => !Object.keys(m).some((k) => RESERVED_METADATA.has(k.toLowerCase())),
      "metadata cannot set server-owned fields",
    )
    .refine(
      (m) => new TextEncoder().encode(JSON.stringify(m)).byteLength <= MAX_METADATA_BYTES,
      "metadata is at most 4 KiB",
    ),
).openapi("KeyMetadata", { example: { label: "production", team: "ml" } });

/**
 * The readable credential fields of the providers that have them (the catalog's `fields`): taken beside
 * `api_key` on store, returned on reads. Required for such a provider, refused for any other service.
 */
const CredentialFields = AzureSettings.partial();
const credentialFieldDocs = {
  endpoint:
    "Azure OpenAI only: the resource endpoint, https://<resource>.openai.azure.com (or .cognitiveservices.azure.com).",
  deployment: "Azure OpenAI only: the deployment agents chat with.",
  api_version: "Azure OpenAI only: the dated API version, e.g. 2024-10-21.",
} satisfies Record<keyof typeof CredentialFields.shape, string>;
const documented = <K extends keyof typeof credentialFieldDocs>(name: K) =>
  CredentialFields.shape[name].openapi({ description: credentialFieldDocs[name] });

export const StoreKeyBody = z
  .strictObject({
    service: z.string().openapi({ example: "openai" }),
    // Its last characters become key_hint, a Postgres column.
    api_key: storableText(z.string())
      .min(8, "api_key is too short")
      .max(512, "api_key is at most 512 characters")
      .openapi({ example: "sk-proj-…" }),
    endpoint: documented("endpoint").openapi({ example: "https://my-resource.openai.azure.com" }),
    deployment: documented("deployment"),
    api_version: documented("api_version"),
    metadata: KeyMetadata.optional(),
    expected_version: z.number().int().min(0).optional().openapi({
      description: "Compare-and-set: store only if the current version is this (0 = no key yet). Mismatch → 409.",
    }),
    verify: z.boolean().optional().openapi({
      description:
        "Check the key with the provider first (one call that costs no tokens). A key the provider rejects (401/403) is not stored: 422 `provider_key_rejected`, and the previous version stays. `unknown` (timeout, 5xx, rate limited, no known check) is stored.",
    }),
    expires_at: z.iso
      .datetime({ offset: true, message: "expires_at must be an ISO 8601 date-time, e.g. 2027-01-31T00:00:00Z" })
      .refine((v) => Date.parse(v) > Date.now(), "expires_at must be in the future")
      .optional()
      .openapi({
        description:
          "When the provider key stops working, if known. Past it the key is refused for use (422 `provider_key_expired`); the list marks it `expiring_soon` in its last 14 days. Each version has its own.",
        example: "2027-01-31T00:00:00Z",
      }),
  })
  .openapi("StoreKeyRequest");

export const Verification = z.enum(["valid", "rejected", "unknown"]).openapi("KeyVerification", {
  description:
    "What the provider said of the key: `valid`, `rejected` (HTTP 401/403) or `unknown` (timeout, 5xx, rate limited, or no known check for the service).",
});

/** A key check's outcome, as answered by the store (with `verify: true`) and by `…/verify`. */
const checkFields = {
  verification: Verification,
  last_verified_at: z.string().openapi({ description: "When the provider was asked." }),
  verification_reason: z.string().openapi({
    description: "Why, in plain words (never the provider's body).",
    example: "openai accepted the key.",
  }),
};

export const StoreKeyResponse = z
  .object({
    status: z.literal("success"),
    action: z.enum(["created", "rotated"]),
    service: z.string(),
    vault_path: z.string(),
    version: z.number().int(),
    key_hint: z.string(),
    endpoint: documented("endpoint"),
    deployment: documented("deployment"),
    api_version: documented("api_version"),
    warnings: z.array(z.string()).optional().openapi({
      description: "Why the key may not work (e.g. its shape is not the provider's usual one); it was stored anyway.",
    }),
    expires_at: z.string().optional().openapi({ description: "The expiry given, if any." }),
    verification: checkFields.verification.optional().openapi({ description: "With `verify: true` only." }),
    last_verified_at: checkFields.last_verified_at.optional(),
    verification_reason: checkFields.verification_reason.optional(),
  })
  .openapi("StoreKeyResponse");

export const VerifyKeyResponse = z
  .object({
    service: z.string(),
    version: z.number().int().openapi({ description: "The stored version that was checked." }),
    key_hint: z.string().nullable(),
    ...checkFields,
  })
  .openapi("VerifyKeyResponse");

export const KeyInfo = z
  .object({
    service: z.string(),
    has_key: z.literal(true),
    created_at: z.string(),
    created_by: z.string().nullable(),
    updated_at: z.string(),
    version: z.number().int(),
    key_hint: z.string().nullable(),
    endpoint: documented("endpoint"),
    deployment: documented("deployment"),
    api_version: documented("api_version"),
    metadata: z.record(z.string(), z.unknown()),
    verification: Verification.nullable().openapi({
      description:
        "The provider's last verdict on the current version (a check, or a 401/403 during use); null: not checked since stored.",
    }),
    verified_version: z.number().int().nullable(),
    last_verified_at: z.string().nullable(),
    last_used_at: z
      .string()
      .nullable()
      .openapi({ description: "When chat, embeddings or /v1 last used the key (recorded after the call)." }),
    expires_at: z.string().nullable(),
    expiring_soon: z
      .boolean()
      .openapi({ description: `Not expired yet, but expires within ${EXPIRING_SOON_DAYS} days: replace it soon.` }),
    expired: z.boolean().openapi({ description: "Past expires_at: refused for use until a new key is stored." }),
  })
  .openapi("KeyInfo");

export const KeyList = z
  .object({
    keys: z
      .array(z.string())
      .openapi({ description: "Service names with a stored key; `items` holds their metadata." }),
    items: z.array(KeyInfo),
  })
  .openapi("KeyList");

export const DeleteKeyResponse = z
  .object({ status: z.literal("success"), service: z.string(), deleted: z.literal(true) })
  .openapi("DeleteKeyResponse");
