import { z } from "zod";
import { ApiError } from "../errors/problem";
import { isLoopbackHost, urlProblem, type LoopbackPolicy } from "../lib/reach";
import { ProviderError } from "./errors";
import type { ProviderTransport } from "./http";
import { OpenAIClient, type OpenAIOperation } from "./openai";
import type { ChatRequest } from "./types";

/**
 * Azure OpenAI: OpenAI's bodies, sent to a tenant's own resource. Each call goes to
 * `{endpoint}/openai/deployments/{deployment}/{operation}?api-version=…` with the key in an
 * `api-key` header (Azure OpenAI REST reference, data plane inference). The wire handling is
 * the OpenAI client's; only the address and the header differ.
 */

/** Azure resource endpoints: `<resource>.openai.azure.com`, and the Azure AI services (Foundry) form. */
const AZURE_HOST = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?\.(?:openai\.azure\.com|cognitiveservices\.azure\.com)$/;

/**
 * Why `raw` cannot be an Azure OpenAI endpoint, or null. On top of the shared SSRF rules
 * (lib/reach.ts): a resource endpoint alone (no path, query or port), on an Azure OpenAI host.
 * With `allowLoopback` (local development) the stand-in's loopback URL passes too.
 */
export function azureEndpointProblem(raw: string, policy: LoopbackPolicy): string | null {
  const unsafe = urlProblem(raw, policy);
  if (unsafe) return unsafe;
  const url = new URL(raw);
  if (url.pathname !== "/" || url.search || url.hash)
    return "must be the resource's endpoint alone, without a path or query (like https://my-resource.openai.azure.com)";
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (policy.allowLoopback && isLoopbackHost(host)) return null;
  if (url.port || !AZURE_HOST.test(host))
    return "must be an Azure OpenAI resource endpoint: https://<resource>.openai.azure.com or https://<resource>.cognitiveservices.azure.com";
  return null;
}

/** Azure's naming rules for a deployment: letters, digits, `-`, `_`, `.`; a path segment, never `.` or `..`. */
const DEPLOYMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const DEPLOYMENT_RULE = "1-64 letters, digits, '-', '_' or '.', starting with a letter or digit";

/** Why `name` cannot be a deployment's name (it becomes a path segment), or null. */
export function deploymentProblem(name: string): string | null {
  return DEPLOYMENT.test(name) ? null : `a deployment name is ${DEPLOYMENT_RULE}`;
}
/** Dated API versions (`2024-10-21`, `2025-01-01-preview`): the deployments routes take no other form. */
const API_VERSION = /^\d{4}-\d{2}-\d{2}(?:-preview)?$/;

/** The readable fields of an Azure OpenAI credential, as the API takes them (the key is `api_key`). */
export const AzureSettings = z.object({
  endpoint: z.string().max(256, "endpoint is at most 256 characters"),
  deployment: z.string().regex(DEPLOYMENT, `deployment must be ${DEPLOYMENT_RULE}`),
  api_version: z
    .string()
    .regex(API_VERSION, "api_version must be a dated Azure OpenAI API version like 2024-10-21 or 2025-01-01-preview"),
});

export interface AzureCredential {
  apiKey: string;
  /** The endpoint's origin, without a trailing slash. */
  endpoint: string;
  deployment: string;
  apiVersion: string;
}

/**
 * Checks the fields a tenant gives (or Vault holds) and returns them normalised (the endpoint
 * as its origin); an ApiError naming the field otherwise: 400 on input, 422 for a stored
 * credential that cannot be used (e.g. stored in development, read by a stricter deployment).
 */
export function azureSettings(
  fields: Record<string, unknown>,
  policy: LoopbackPolicy,
  stored = false,
): z.output<typeof AzureSettings> {
  const parsed = AzureSettings.safeParse(fields);
  const errors = parsed.success
    ? []
    : parsed.error.issues.map((i) => ({
        path: String(i.path[0] ?? ""),
        message: i.code === "invalid_type" ? `${String(i.path[0])} is required for azure-openai` : i.message,
      }));
  const endpoint = parsed.success ? parsed.data.endpoint : undefined;
  const problem = endpoint === undefined ? null : azureEndpointProblem(endpoint, policy);
  if (problem) errors.push({ path: "endpoint", message: `endpoint ${problem}` });
  if (errors.length === 0 && parsed.success) return { ...parsed.data, endpoint: new URL(parsed.data.endpoint).origin };
  const detail = errors.map((e) => e.message).join("; ");
  if (stored)
    throw new ApiError(
      "provider_misconfigured",
      `The tenant's stored azure-openai credential cannot be used: ${detail}. An admin must store it again at POST /vault/keys/azure-openai.`,
    );
  throw new ApiError(problem && errors.length === 1 ? "url_not_allowed" : "validation_failed", detail, { errors });
}

/** The client's credential from what Vault holds. */
export function azureCredential(
  stored: { apiKey: string; settings: Readonly<Record<string, string>> },
  policy: LoopbackPolicy,
): AzureCredential {
  const s = azureSettings(stored.settings, policy, true);
  return { apiKey: stored.apiKey, endpoint: s.endpoint, deployment: s.deployment, apiVersion: s.api_version };
}

/** Azure OpenAI chat (streamed or not) and embeddings, through the tenant's resource and deployment. */
export class AzureOpenAIClient extends OpenAIClient {
  override readonly name = "azure-openai" as const;
  readonly deployment: string;
  private readonly apiVersion: string;

  constructor(transport: ProviderTransport, credential: AzureCredential) {
    super(transport, credential.apiKey);
    this.deployment = credential.deployment;
    this.apiVersion = credential.apiVersion;
  }

  /** `target` is the deployment: the credential's for agents' chat, the caller's for /v1 and embeddings. */
  protected override path(operation: OpenAIOperation, target: string): string {
    // Callers check names first; this keeps any other string from becoming a path (`..`, `/`).
    if (deploymentProblem(target)) throw new Error("not a deployment name");
    const query = new URLSearchParams({ "api-version": this.apiVersion });
    return `/openai/deployments/${encodeURIComponent(target)}${operation}?${query}`;
  }

  /** The resource's model list (`GET /openai/models?api-version=…`): the key check, without tokens. */
  protected override modelsPath(): string {
    return `/openai/models?${new URLSearchParams({ "api-version": this.apiVersion })}`;
  }

  protected override authHeaders(): Record<string, string> {
    return { "api-key": this.apiKey };
  }

  /** Agents chat with the credential's deployment; `llm_model` names the model it runs (Azure ignores it). */
  protected override chatTarget(_request: ChatRequest): string {
    return this.deployment;
  }

  /**
   * Azure's refusals that are about the stored settings, not the request: a deployment the resource
   * does not have (404 DeploymentNotFound), one that cannot do this operation (400
   * OperationNotSupported), an API version it does not serve (400 "API version not supported").
   * Recognised from the log-safe reason; the tenant is told in the gateway's own words.
   */
  protected override explain(err: unknown, target: string): unknown {
    if (!(err instanceof ProviderError) || err.failure.kind !== "refused") return err;
    const reason = err.upstreamReason ?? "";
    const { status } = err.failure;
    let setting: { field: string; problem: string } | undefined;
    if (status === 404 && /DeploymentNotFound/.test(reason))
      setting = { field: "deployment", problem: `the Azure resource has no deployment named ${target}` };
    else if (status === 400 && /OperationNotSupported/.test(reason))
      setting = { field: "deployment", problem: `the deployment ${target} does not support this operation` };
    else if (status === 400 && /API version not supported/i.test(reason))
      setting = { field: "api_version", problem: `Azure does not support api_version ${this.apiVersion}` };
    if (!setting) return err;
    return new ProviderError(err.provider, { ...err.failure, setting }, err.upstreamReason);
  }
}
