import { jsonResponse } from "../../lib/openapi";
import { defineRoute } from "../../lib/route";
import {
  DeleteKeyResponse,
  KeyInfo,
  KeyList,
  ServiceParam,
  StoreKeyBody,
  StoreKeyResponse,
  VerifyKeyResponse,
} from "./keys.schemas";

export const storeKey = defineRoute({
  method: "post",
  path: "/vault/keys/{service}",
  role: "admin",
  audit: { action: "key.store", resourceType: "api_key", param: "service" },
  tags: ["Keys"],
  summary: "Store or rotate a provider key",
  description:
    "Stores the key in Vault; storing again rotates it (a new version). The key is never returned. With `verify: true` the provider is asked first: a key it rejects is not stored (422 `provider_key_rejected`).",
  request: {
    params: ServiceParam,
    body: { required: true, content: { "application/json": { schema: StoreKeyBody } } },
  },
  responses: {
    200: jsonResponse(StoreKeyResponse, "Key rotated"),
    201: jsonResponse(StoreKeyResponse, "Key stored"),
  },
  errors: [409, 422, 502, 503],
});

export const verifyKey = defineRoute({
  method: "post",
  path: "/vault/keys/{service}/verify",
  role: "admin",
  audit: { action: "key.verify", resourceType: "api_key", param: "service" },
  tags: ["Keys"],
  summary: "Check the stored key with its provider again",
  description:
    "One call to the provider that costs no tokens (listing models). The result (`valid`, `rejected`, `unknown`), its time and the version checked are kept on the key's record.",
  request: { params: ServiceParam },
  responses: { 200: jsonResponse(VerifyKeyResponse, "The provider's verdict") },
  errors: [404, 502, 503],
});

export const getKey = defineRoute({
  method: "get",
  path: "/vault/keys/{service}",
  role: "member",
  audit: { action: "key.read", resourceType: "api_key", param: "service" },
  tags: ["Keys"],
  summary: "Read a key's metadata (never the key)",
  request: { params: ServiceParam },
  responses: { 200: jsonResponse(KeyInfo, "Key metadata") },
  errors: [404, 502, 503],
});

export const deleteKey = defineRoute({
  method: "delete",
  path: "/vault/keys/{service}",
  role: "admin",
  audit: { action: "key.delete", resourceType: "api_key", param: "service" },
  tags: ["Keys"],
  summary: "Delete a key and every version of it",
  request: { params: ServiceParam },
  responses: { 200: jsonResponse(DeleteKeyResponse, "Deleted") },
  errors: [404, 502, 503],
});

export const listKeys = defineRoute({
  method: "get",
  path: "/vault/keys",
  role: "member",
  audit: { action: "key.list", resourceType: "api_key" },
  tags: ["Keys"],
  summary: "List the tenant's stored keys",
  responses: { 200: jsonResponse(KeyList, "Stored keys") },
  errors: [502, 503],
});
