import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "../env";
import { ApiError, isOpenAiPath } from "../errors/problem";

/**
 * A router whose validation failures all become the same 400 problem:
 * `validation_failed` with `errors: [{path, message}]`. Messages name the rule,
 * never the rejected value (which could be a key).
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) {
        const errors = result.error.issues.slice(0, 20).map((i) => ({ path: i.path.join("."), message: i.message }));
        throw new ApiError(
          "validation_failed",
          errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join("; "),
          {
            errors,
          },
        );
      }
    },
  });
}

/** The problem+json schema, shared by every route's error responses in the OpenAPI document. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().openapi({ example: "validation_failed" }),
    detail: z.string().optional(),
    requestId: z.string().optional(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

/** OpenAI's error body, which the OpenAI-compatible routes (`/v1/…`) answer with instead of a problem. */
export const OpenAiErrorSchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string().openapi({ example: "invalid_request_error" }),
      code: z.string().openapi({ example: "model_not_found" }),
      param: z.string().nullable(),
    }),
  })
  .openapi("OpenAiError");

/**
 * Error responses for a route: problem+json, or OpenAI's `{"error": …}` as application/json on the
 * OpenAI-compatible paths (the same `isOpenAiPath` that picks the shape at runtime).
 */
export function problemResponses(path: string, ...statuses: number[]) {
  const content = isOpenAiPath(path)
    ? { "application/json": { schema: OpenAiErrorSchema } }
    : { "application/problem+json": { schema: ProblemSchema } };
  const descriptions: Record<number, string> = {
    400: "Invalid request",
    401: "Missing or invalid bearer token",
    402: "A monthly budget that applies to the call is spent",
    403: "The caller's role does not allow this",
    404: "Not found",
    409: "Conflicts with the current state (a version, an existing or a disabled resource)",
    413: "Request body too large",
    422: "A provider key is missing or was rejected",
    429: "Rate limited",
    502: "An upstream refused the gateway",
    503: "An upstream is unavailable",
  };
  return Object.fromEntries(statuses.map((s) => [s, { description: descriptions[s] ?? "Error", content }]));
}

/** The security requirement of every authenticated route (the `bearerAuth` scheme registered in app.ts). */
export const bearerSecurity: Array<Record<string, string[]>> = [{ bearerAuth: [] }];

/** /v1's: a JWT or a tenant API key (`apiKeyAuth`, also registered in app.ts), either one. */
export const bearerOrApiKeySecurity: Array<Record<string, string[]>> = [{ bearerAuth: [] }, { apiKeyAuth: [] }];

/** A JSON response entry for a route's `responses`. */
export const jsonResponse = <T>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

export { z };
