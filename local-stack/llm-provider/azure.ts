import type { IncomingMessage, ServerResponse } from "node:http";
import type { HandlerContext } from "./calls";
import { embeddingsResponse, parseEmbeddingsRequest } from "./embeddings";
import { isRecord, randomId, readJsonBody, sendJson } from "./http";
import { classifyKey, readCredential } from "./keys";
import { chatCompletions, parseChatRequest } from "./openai";

/**
 * Azure OpenAI's data-plane shape, served at the stand-in's root as one Azure resource would be
 * (its endpoint is the stand-in's URL): `POST /openai/deployments/{deployment}/chat/completions`
 * and `/embeddings`, `GET /openai/models`, each with `?api-version=`, the key in `api-key`.
 * Bodies are OpenAI's; errors are Azure's `{"error": {"code", "message"}}`.
 */

/**
 * The resource's deployments: name → the model it runs and what it can do. `answers` is the model
 * its answers name: Azure names a chat model's dated version (`gpt-4o-mini-2024-07-18`), and an
 * embedding model by its name.
 */
export const AZURE_DEPLOYMENTS: Record<string, { model: string; answers: string; kind: "chat" | "embeddings" }> = {
  "gpt-4o-mini": { model: "gpt-4o-mini", answers: "gpt-4o-mini-2024-07-18", kind: "chat" },
  // A deployment named unlike its model, so tests see that the path (not the body's model) decides.
  "chat-prod": { model: "gpt-4o", answers: "gpt-4o-2024-11-20", kind: "chat" },
  "text-embedding-3-small": { model: "text-embedding-3-small", answers: "text-embedding-3-small", kind: "embeddings" },
  // 3072-dimensional vectors: what knowledge (vector(1536)) must refuse.
  "text-embedding-3-large": { model: "text-embedding-3-large", answers: "text-embedding-3-large", kind: "embeddings" },
};

/** API versions the resource serves (GA and preview); any other is "API version not supported". */
export const AZURE_API_VERSIONS = new Set([
  "2023-05-15",
  "2024-02-01",
  "2024-06-01",
  "2024-10-21",
  "2024-08-01-preview",
  "2024-10-01-preview",
  "2024-12-01-preview",
  "2025-01-01-preview",
  "2025-03-01-preview",
  "2025-04-01-preview",
]);

const DEPLOYMENT_ROUTE = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/;

function sendAzureError(res: ServerResponse, status: number, code: string, message: string, headers = {}): void {
  sendJson(res, status, { error: { code, message } }, { "apim-request-id": randomId("", 16), ...headers });
}

/** OpenAI-shaped validation errors pass through Azure as OpenAI writes them. */
function sendOpenAIError(res: ServerResponse, error: { message: string; param: string | null; code: string | null }) {
  sendJson(res, 400, { error: { ...error, type: "invalid_request_error" } }, { "apim-request-id": randomId("", 16) });
}

/** Whether `path` is one of Azure's; the caller then hands it to {@link handleAzure}. */
export function isAzurePath(path: string): boolean {
  return path === "/openai/models" || path.startsWith("/openai/deployments/");
}

/** Handle a request on an Azure OpenAI path (`isAzurePath`). */
export async function handleAzure(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  ctx: HandlerContext,
): Promise<void> {
  const path = url.pathname;
  const route = DEPLOYMENT_ROUTE.exec(path);
  const known = (req.method === "POST" && route) || (req.method === "GET" && path === "/openai/models");
  const apiVersion = url.searchParams.get("api-version");
  // Azure answers an unknown route, and a known one without api-version, with a bare 404.
  if (!known || !apiVersion) {
    req.resume();
    sendAzureError(res, 404, "404", "Resource not found");
    return;
  }
  const body = await readJsonBody(req);
  const key = readCredential("azure", req.headers);
  const verdict = classifyKey("azure", key);
  if (key === null || verdict === "missing") {
    sendAzureError(
      res,
      401,
      "401",
      "Access denied due to missing subscription key. Make sure to include subscription key when making requests to an API.",
    );
    return;
  }
  if (verdict === "malformed" || verdict === "revoked") {
    sendAzureError(
      res,
      401,
      "401",
      "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
    );
    return;
  }
  const parsed = body.kind === "json" ? body.value : undefined;
  const record = (status: number) => ctx.calls.record("azure", path, key, parsed, status);
  if (!AZURE_API_VERSIONS.has(apiVersion)) {
    record(400);
    sendAzureError(res, 400, "BadRequest", "API version not supported");
    return;
  }
  if (verdict === "ratelimited") {
    record(429);
    sendAzureError(
      res,
      429,
      "429",
      `Requests to the ChatCompletions_Create Operation under Azure OpenAI API version ${apiVersion} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after 7 seconds.`,
      { "retry-after": "7", "x-ratelimit-remaining-requests": "0" },
    );
    return;
  }
  if (verdict === "overloaded") {
    record(503);
    sendAzureError(res, 503, "ServiceUnavailable", "The service is temporarily unable to process your request.");
    return;
  }
  if (!route) {
    // GET /openai/models: the key check a gateway can make without spending tokens.
    record(200);
    sendJson(res, 200, {
      object: "list",
      data: [...new Set(Object.values(AZURE_DEPLOYMENTS).map((d) => d.model))].map((id) => ({
        id,
        object: "model",
        status: "succeeded",
        created_at: 1_715_367_049,
        capabilities: {
          chat_completion: !id.startsWith("text-embedding"),
          embeddings: id.startsWith("text-embedding"),
        },
        lifecycle_status: "generally-available",
      })),
    });
    return;
  }
  const name = decodeURIComponent(route[1]!);
  const operation = route[2] === "embeddings" ? "embeddings" : "chat";
  const deployment = Object.hasOwn(AZURE_DEPLOYMENTS, name) ? AZURE_DEPLOYMENTS[name] : undefined;
  if (!deployment) {
    record(404);
    sendAzureError(
      res,
      404,
      "DeploymentNotFound",
      "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
    );
    return;
  }
  if (deployment.kind !== operation) {
    record(400);
    sendAzureError(
      res,
      400,
      "OperationNotSupported",
      `The ${operation === "chat" ? "chatCompletion" : "embeddings"} operation does not work with the specified model, ${deployment.model}. Please choose different model and try again. You can learn more about which models can be used with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993.`,
    );
    return;
  }
  if (body.kind !== "json") {
    record(400);
    sendOpenAIError(res, { message: "We could not parse the JSON body of your request.", param: null, code: null });
    return;
  }
  // The deployment decides the model (its answers name it); a `model` in the body is ignored, as Azure does.
  const request = isRecord(parsed) ? { ...parsed, model: deployment.answers } : parsed;
  if (operation === "embeddings") {
    const embeddings = parseEmbeddingsRequest(request);
    if ("message" in embeddings) {
      record(400);
      sendOpenAIError(res, embeddings);
      return;
    }
    record(200);
    sendJson(res, 200, embeddingsResponse(embeddings), { "apim-request-id": randomId("", 16) });
    return;
  }
  const chat = parseChatRequest(request);
  if ("message" in chat) {
    record(400);
    sendOpenAIError(res, chat);
    return;
  }
  record(200);
  await chatCompletions(res, chat, ctx, key.includes("dropsmidstream") ? 3 : undefined, { azure: true });
}
