import { jsonResponse } from "../../lib/openapi";
import { defineRoute } from "../../lib/route";
import {
  ApiKeyIdParam,
  ApiKeyList,
  ApiKeySchema,
  CreateApiKeyBody,
  CreatedApiKey,
  ListApiKeysQuery,
} from "./api-keys.schemas";

export const createApiKey = defineRoute({
  method: "post",
  path: "/api-keys",
  role: "admin",
  audit: { action: "api_key.create", resourceType: "tenant_api_key" },
  tags: ["API keys"],
  summary: "Create a tenant API key (shown once)",
  description:
    "A key for code calling /v1/* as `Authorization: Bearer bgk_…`. The answer is the only time the key is shown; the gateway keeps its SHA-256 and a hint.",
  request: { body: { required: true, content: { "application/json": { schema: CreateApiKeyBody } } } },
  responses: { 201: jsonResponse(CreatedApiKey, "The new key") },
  errors: [503],
});

export const listApiKeys = defineRoute({
  method: "get",
  path: "/api-keys",
  role: "member",
  audit: { action: "api_key.list", resourceType: "tenant_api_key" },
  tags: ["API keys"],
  summary: "List the tenant's API keys (hints only), newest first",
  request: { query: ListApiKeysQuery },
  responses: { 200: jsonResponse(ApiKeyList, "API keys, revoked and expired ones included") },
  errors: [503],
});

export const getApiKey = defineRoute({
  method: "get",
  path: "/api-keys/{id}",
  role: "member",
  audit: { action: "api_key.read", resourceType: "tenant_api_key", param: "id" },
  tags: ["API keys"],
  summary: "Read an API key's record (never the key)",
  request: { params: ApiKeyIdParam },
  responses: { 200: jsonResponse(ApiKeySchema, "The key's record") },
  errors: [404, 503],
});

export const revokeApiKey = defineRoute({
  method: "delete",
  path: "/api-keys/{id}",
  role: "admin",
  audit: { action: "api_key.revoke", resourceType: "tenant_api_key", param: "id" },
  tags: ["API keys"],
  summary: "Revoke an API key",
  description: "Its next request is refused (401). Revoking a revoked key changes nothing.",
  request: { params: ApiKeyIdParam },
  responses: { 200: jsonResponse(ApiKeySchema, "The revoked key's record") },
  errors: [404, 503],
});
