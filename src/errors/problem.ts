import type { Context } from "hono";
import { DrizzleQueryError } from "drizzle-orm";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ConfigError } from "../config";
import { VaultError } from "../vault/http";
import type { AppEnv } from "../env";

/**
 * Stable error codes. Clients switch on these; never rename one.
 * Each maps to one HTTP status and a short title.
 */
export const ERRORS = {
  bad_request: [400, "Bad request"],
  unsupported_parameter: [400, "Parameter not supported for this model"],
  provider_refused: [400, "Provider refused the request"],
  validation_failed: [400, "Request validation failed"],
  url_not_allowed: [400, "URL not allowed"],
  unauthenticated: [401, "Authentication required"],
  invalid_token: [401, "Invalid token"],
  invalid_api_key: [401, "Invalid API key"],
  api_key_not_accepted: [401, "API keys are accepted on /v1 only"],
  // 402, not 429: a spent monthly budget is not retried by SDKs (the openai SDK retries 429s).
  budget_exceeded: [402, "Budget exceeded"],
  forbidden: [403, "Forbidden"],
  model_not_allowed: [403, "Model not allowed for this API key"],
  not_found: [404, "Not found"],
  model_not_found: [404, "Model not found"],
  method_not_allowed: [405, "Method not allowed"],
  version_conflict: [409, "Version conflict"],
  conflict: [409, "Conflict"],
  knowledge_not_empty: [409, "Knowledge is embedded with another model"],
  payload_too_large: [413, "Payload too large"],
  unsupported_media_type: [415, "Unsupported media type"],
  provider_key_missing: [422, "Provider key missing"],
  provider_key_rejected: [422, "Provider key rejected"],
  provider_misconfigured: [422, "Provider credential misconfigured"],
  provider_key_expired: [422, "Provider key expired"],
  connector_check_failed: [422, "The connected service refused the check"],
  rate_limited: [429, "Too many requests"],
  internal_error: [500, "Internal error"],
  config_invalid: [500, "Server misconfigured"],
  vault_auth_failed: [502, "Secret store refused the gateway"],
  vault_permission_denied: [502, "Secret store policy denies the gateway"],
  vault_misconfigured: [502, "Secret store misconfigured"],
  upstream_error: [502, "Upstream error"],
  vault_unavailable: [503, "Secret store unavailable"],
  database_unavailable: [503, "Database unavailable"],
  provider_unavailable: [503, "Provider unavailable"],
  connector_unavailable: [503, "Connected service unavailable"],
} as const satisfies Record<string, readonly [number, string]>;

export type ErrorCode = keyof typeof ERRORS;

/** The one error type of the API; rendered as RFC 9457 problem details by `onError`. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  constructor(
    readonly code: ErrorCode,
    /** Safe for the wire: never a key, token, or upstream body. */
    readonly detail?: string,
    readonly opts: {
      headers?: Record<string, string>;
      errors?: Array<{ path: string; message: string }>;
      /** The request field at fault (OpenAI's `param`); else the first validation error's path. */
      param?: string;
      cause?: unknown;
    } = {},
  ) {
    super(detail ?? ERRORS[code][1], { cause: opts.cause });
    this.status = ERRORS[code][0] as ContentfulStatusCode;
  }
}

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  requestId?: string;
  errors?: unknown[];
}

/** The OpenAI-compatible routes: their errors are OpenAI-shaped, not problem+json. */
export const isOpenAiPath = (path: string) => path === "/v1" || path.startsWith("/v1/");

/** OpenAI's error `type` for a status (the `openai` SDK picks its error class by status, clients read `code`). */
function openAiErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 402) return "insufficient_quota";
  if (status === 403) return "permission_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** `{"error": {message, type, code, param}}`, OpenAI's error body, with the same status, code and headers as the problem. */
export function openAiError(c: Context<AppEnv>, err: ApiError): Response {
  const [status, title] = ERRORS[err.code];
  const body = {
    error: {
      message: err.detail ?? title,
      type: openAiErrorType(status),
      code: err.code,
      param: err.opts.param ?? (err.opts.errors?.[0]?.path || null),
    },
  };
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "x-request-id": c.get("requestId") ?? "",
    ...err.opts.headers,
  };
  return new Response(JSON.stringify(body), { status, headers });
}

/** Builds the error response for `code`: problem+json, or OpenAI's shape on /v1. */
export function problem(c: Context<AppEnv>, err: ApiError): Response {
  if (isOpenAiPath(c.req.path)) return openAiError(c, err);
  const [status, title] = ERRORS[err.code];
  const body: ProblemBody = {
    type: `https://docs.brain-gateway.dev/errors/${err.code}`,
    title,
    status,
    code: err.code,
    ...(err.detail ? { detail: err.detail } : {}),
    requestId: c.get("requestId"),
    ...(err.opts.errors ? { errors: err.opts.errors } : {}),
  };
  const headers: Record<string, string> = {
    "content-type": "application/problem+json",
    // Set here, not left to the middleware: a raw Response does not carry the context's prepared headers.
    "x-request-id": c.get("requestId") ?? "",
    ...err.opts.headers,
  };
  return new Response(JSON.stringify(body), { status, headers });
}

/** The app's one `onError`: known errors keep their code, anything else is a generic 500 with the reason in the log. */
export function onError(err: Error, c: Context<AppEnv>): Response {
  const logger = c.get("logger");
  if (err instanceof ApiError) {
    if (err.status >= 500) logger?.error("request.failed", { code: err.code, reason: describeError(err.cause ?? err) });
    return problem(c, err);
  }
  if (err instanceof ConfigError) {
    logger?.error("config.invalid", { setting: err.setting, reason: err.reason });
    return problem(c, new ApiError("config_invalid", `setting ${err.setting} is missing or invalid`));
  }
  const upstream = fromUpstream(err);
  if (upstream) {
    logger?.error("request.upstream_failed", { code: upstream.code, reason: describeError(err) });
    return problem(c, upstream);
  }
  if (err instanceof HTTPException) {
    const byStatus: Partial<Record<number, ErrorCode>> = {
      401: "unauthenticated",
      404: "not_found",
      413: "payload_too_large",
      415: "unsupported_media_type",
    };
    const code = byStatus[err.status] ?? "bad_request";
    return problem(c, new ApiError(code));
  }
  logger?.error("request.unhandled", { reason: describeError(err) });
  return problem(c, new ApiError("internal_error", "An unexpected error occurred."));
}

/**
 * A log-safe description of an error: its class and message, cut short.
 * Drizzle puts SQL params into messages ("Failed query: … params: …"), so those are cut off.
 */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return typeof err;
  const msg = err.message.split("\nparams:")[0]!.slice(0, 300);
  return `${err.name}: ${msg}`;
}

/** SQLSTATE classes that mean "try again later", not "the query is wrong". */
const TRANSIENT_SQLSTATE = /^(08|40|53|57)/;

/** The stable code an error will be answered with (for audit rows and logs). */
export function errorCode(err: unknown): ErrorCode {
  if (err instanceof ApiError) return err.code;
  if (err instanceof ConfigError) return "config_invalid";
  return fromUpstream(err)?.code ?? "internal_error";
}

/** Maps Vault and database failures to their stable API errors; null for anything else. */
export function fromUpstream(err: unknown): ApiError | null {
  if (err instanceof VaultError) {
    switch (err.kind) {
      case "unavailable":
      case "rate_limited":
        return new ApiError("vault_unavailable", "The secret store is unavailable; retry later.", {
          headers: { "Retry-After": String(err.retryAfterSeconds ?? 5) },
        });
      case "auth":
        return new ApiError("vault_auth_failed", "The secret store refused the gateway's credentials.");
      case "permission_denied":
        return new ApiError(
          "vault_permission_denied",
          "The secret store's policy does not allow the gateway this operation; its Vault policy needs the recommended capabilities.",
        );
      case "cas_required":
        return new ApiError(
          "vault_misconfigured",
          "The secret store's KV mount requires check-and-set on every write (cas_required); turn it off for the gateway's keys or send expected_version.",
        );
      case "cas_mismatch":
        return new ApiError("version_conflict", "The key's current version is not expected_version.");
      default:
        return new ApiError("upstream_error", "The secret store gave an unexpected answer.");
    }
  }
  // drizzle wraps driver errors in DrizzleQueryError; the driver's NeonDbError carries the SQLSTATE.
  const dbErr = err instanceof DrizzleQueryError ? err.cause : err;
  if (err instanceof DrizzleQueryError || (dbErr instanceof Error && dbErr.name === "NeonDbError")) {
    const code = (dbErr as { code?: string }).code;
    if (!code || TRANSIENT_SQLSTATE.test(code)) {
      return new ApiError("database_unavailable", "The database is unavailable; retry later.", {
        headers: { "Retry-After": "2" },
      });
    }
  }
  return null;
}
