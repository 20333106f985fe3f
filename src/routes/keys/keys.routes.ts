import { createRoute } from "@hono/zod-openapi";
import { bearerSecurity, jsonResponse, problemResponses } from "../../lib/openapi";
import { DeleteKeyResponse, KeyInfo, KeyList, ServiceParam, StoreKeyBody, StoreKeyResponse } from "./keys.schemas";
import { auditTarget } from "../../audit/audited";

export const storeKey = createRoute({
  method: "post",
  path: "/vault/keys/{service}",
  middleware: [auditTarget("key.store", "api_key", "service")] as const,
  tags: ["Keys"],
  summary: "Store or rotate a provider key",
  description:
    "Admins only. Stores the key in Vault; storing again rotates it (a new version). The key is never returned.",
  security: bearerSecurity,
  request: {
    params: ServiceParam,
    body: { required: true, content: { "application/json": { schema: StoreKeyBody } } },
  },
  responses: {
    200: jsonResponse(StoreKeyResponse, "Key rotated"),
    201: jsonResponse(StoreKeyResponse, "Key stored"),
    ...problemResponses(400, 401, 403, 409, 413, 429, 502, 503),
  },
});

export const getKey = createRoute({
  method: "get",
  path: "/vault/keys/{service}",
  middleware: [auditTarget("key.read", "api_key", "service")] as const,
  tags: ["Keys"],
  summary: "Read a key's metadata (never the key)",
  security: bearerSecurity,
  request: { params: ServiceParam },
  responses: { 200: jsonResponse(KeyInfo, "Key metadata"), ...problemResponses(400, 401, 404, 429, 502, 503) },
});

export const deleteKey = createRoute({
  method: "delete",
  path: "/vault/keys/{service}",
  middleware: [auditTarget("key.delete", "api_key", "service")] as const,
  tags: ["Keys"],
  summary: "Delete a key and every version of it",
  security: bearerSecurity,
  request: { params: ServiceParam },
  responses: {
    200: jsonResponse(DeleteKeyResponse, "Deleted"),
    ...problemResponses(400, 401, 403, 404, 429, 502, 503),
  },
});

export const listKeys = createRoute({
  method: "get",
  path: "/vault/keys",
  middleware: [auditTarget("key.list", "api_key")] as const,
  tags: ["Keys"],
  summary: "List the tenant's stored keys",
  security: bearerSecurity,
  responses: { 200: jsonResponse(KeyList, "Stored keys"), ...problemResponses(401, 429, 502, 503) },
});
