/**
 * The gateway's typed client (`brain-gateway/client`). Browser- and
 * Workers-safe: it imports only `hono/client` at runtime; every other import
 * is a type, so no server code is bundled.
 */
export { createBrainApi } from "./brain-api";
export type {
  AuditLogQuery,
  BrainApi,
  BrainApiOptions,
  BrainClient,
  ChatMessage,
  ChatReply,
  ChatStreamEvent,
  CreateApiKeyJson,
  CreateConnectorJson,
  SuccessBody,
  Unwrapped,
  UpdateConnectorJson,
  UsageQuery,
} from "./brain-api";
export { readSse, type SseEvent } from "./sse";
export { BrainApiError, isBrainApiError } from "./errors";
export type { BrainErrorCode, FieldError, ProblemDetails } from "./errors";

import type { BrainApi } from "./brain-api";

type Result<F> = F extends (...args: never[]) => Promise<infer R> ? R : never;

/** `POST /vault/keys/:service` answer. */
export type StoreKeyResult = Result<BrainApi["vault"]["storeKey"]>;
/** One stored key's metadata. */
export type KeyInfo = Result<BrainApi["vault"]["getKey"]>;
/** `GET /vault/keys` answer. */
export type KeyList = Result<BrainApi["vault"]["listKeys"]>;
/** `DELETE /vault/keys/:service` answer. */
export type DeleteKeyResult = Result<BrainApi["vault"]["deleteKey"]>;
/** `POST /vault/keys/{service}/verify`: the provider's verdict on the stored key. */
export type VerifyKeyResult = Result<BrainApi["vault"]["verifyKey"]>;
/** A page of audit rows. */
export type AuditLogPage = Result<BrainApi["audit"]["list"]>;
/** One connector (credential hints only) with its last run. */
export type ConnectorInfo = Result<BrainApi["connectors"]["get"]>;
/** One sync run of a connector. */
export type ConnectorRun = Result<BrainApi["connectors"]["run"]>;
/** `DELETE /connectors/:id` answer. */
export type DeleteConnectorResult = Result<BrainApi["connectors"]["delete"]>;
/** A tenant API key's record (hint, allowances, status; never the key). */
export type ApiKeyInfo = Result<BrainApi["apiKeys"]["get"]>;
/** `POST /api-keys` answer: the record and, this once, the `key`. */
export type CreatedApiKey = Result<BrainApi["apiKeys"]["create"]>;
/** A page of `GET /api-keys`. */
export type ApiKeyPage = Result<BrainApi["apiKeys"]["list"]>;
/** `GET /usage` answer: totals and groups, costs as exact decimal USD strings. */
export type UsageReport = Result<BrainApi["usage"]["report"]>;
/** One monthly budget with this month's spend. */
export type Budget = Result<BrainApi["usage"]["budgets"]>["budgets"][number];
