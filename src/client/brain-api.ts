import { hc, type ClientResponse } from "hono/client";
import type { SuccessStatusCode } from "hono/utils/http-status";
import type { AppType } from "../app";
import type { CreateConnectorInput } from "../routes/connectors/connectors.schemas";
import { BrainApiError, type BrainErrorCode } from "./errors";
import { readSse } from "./sse";

/** Hono's RPC client for the gateway, typed from the Worker's own routes. */
export type BrainClient = ReturnType<typeof hc<AppType>>;

/** The body of a call's successful answers (the union over its 2xx statuses). */
export type SuccessBody<R> =
  R extends ClientResponse<infer T, infer S, infer _F> ? (S extends SuccessStatusCode ? T : never) : never;

type Method = "$get" | "$post" | "$put" | "$patch" | "$delete";
const METHODS = new Set<string>(["$get", "$post", "$put", "$patch", "$delete"]);

/**
 * A client subtree whose calls resolve to the success body and reject with
 * `BrainApiError`, keeping the request types of the raw client.
 */
export type Unwrapped<T> = {
  [K in keyof T]: K extends Method
    ? T[K] extends (...args: infer A) => Promise<infer R>
      ? (...args: A) => Promise<SuccessBody<R>>
      : never
    : K extends `$${string}`
      ? T[K]
      : Unwrapped<T[K]>;
};

/** A top-level section of the API, or an empty object while its routes do not exist yet. */
type Section<K extends string> = K extends keyof BrainClient ? Unwrapped<BrainClient[K]> : Record<string, never>;

// Chat lives at /agents/:agent_id/chat; typed from that route when it exists.
type ChatPost = BrainClient extends { agents: { ":agent_id": { chat: { $post: infer F } } } } ? F : never;
type ChatArgs = ChatPost extends (args: infer A, ...rest: never[]) => unknown ? A : never;
type ChatJson = ChatArgs extends { json: infer J } ? J : never;
/** One message of a conversation. */
export type ChatMessage = ChatJson extends { messages: Array<infer M> } ? M : never;
/** The JSON answer of a chat call. */
export type ChatReply = Extract<SuccessBody<Awaited<ReturnType<ChatPost>>>, { message: unknown }>;
/** The events of a streamed answer, in order: `sources`, `delta`…, `done` (an `error` event is thrown as `BrainApiError`). */
export type ChatStreamEvent =
  | { event: "sources"; data: { agent_id: string; model: string; sources: ChatReply["sources"] } }
  | { event: "delta"; data: { text: string } }
  | { event: "done"; data: { usage: ChatReply["usage"]; finish_reason: string | null; sources: string[] } };

export interface BrainApiOptions {
  /** The gateway's origin (and optional path prefix), e.g. `https://gateway.brain.dev`. */
  baseUrl: string;
  /** The caller's bearer token; called before every request (return null to send none). */
  getToken: () => string | null | undefined | Promise<string | null | undefined>;
  /** Defaults to the global `fetch`. Tests pass the Worker's fetch handler. */
  fetch?: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
}

/** Filters of `GET /audit-logs` (all optional; `next_cursor` goes back as `cursor`). */
export interface AuditLogQuery {
  limit?: number;
  cursor?: string;
  action?: string;
  resource_type?: string;
  resource_id?: string;
  outcome?: "success" | "denied" | "error";
  since?: string;
  until?: string;
}

type ConnectorsClient = BrainClient["connectors"];
/** The body of `POST /connectors`: `type` picks the settings and credentials shapes (see the OpenAPI document). */
export type CreateConnectorJson = CreateConnectorInput;
/** The body of `PATCH /connectors/:id`. */
export type UpdateConnectorJson = Parameters<ConnectorsClient[":id"]["$patch"]>[0]["json"];

/** `GET /usage`'s query: a range of UTC days (default: this month to today) and what each group is. */
export type UsageQuery = NonNullable<Parameters<BrainClient["usage"]["$get"]>[0]>["query"];

type ApiKeysClient = BrainClient["api-keys"];
/** The body of `POST /api-keys`. */
export type CreateApiKeyJson = Parameters<ApiKeysClient["$post"]>[0]["json"];

/** Reads a settled response: the body on 2xx, `BrainApiError` with the problem details otherwise. */
async function settle(res: Response): Promise<unknown> {
  if (!res.ok) throw await BrainApiError.fromResponse(res);
  if (res.status === 204 || res.status === 205) return undefined;
  const type = res.headers.get("content-type") ?? "";
  return /[/+]json\b/.test(type) ? await res.json() : await res.text();
}

function unwrapped<T>(node: T): Unwrapped<T> {
  if (node === undefined || node === null) return node as Unwrapped<T>;
  return new Proxy(node as object, {
    get(target, key) {
      const next = Reflect.get(target, key) as unknown;
      if (typeof key !== "string" || next === undefined) return next;
      if (METHODS.has(key))
        return async (...args: unknown[]) =>
          await settle(await (next as (...a: unknown[]) => Promise<Response>)(...args));
      return key.startsWith("$") ? next : unwrapped(next);
    },
  }) as Unwrapped<T>;
}

/**
 * The gateway's typed client for the portal (browser) and for Workers.
 *
 * ```ts
 * const api = createBrainApi({ baseUrl, getToken: () => session.token });
 * await api.vault.storeKey("openai", key);       // → { action, version, key_hint, … }
 * const { items } = await api.vault.listKeys();
 * ```
 * Every method rejects with `BrainApiError` (problem details; `network_error` when unreachable).
 */
export function createBrainApi(opts: BrainApiOptions) {
  const baseFetch = opts.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init));
  const raw: BrainClient = hc<AppType>(opts.baseUrl, {
    // Only transport failures are mapped here; the answer itself is read by `settle`.
    fetch: async (input: RequestInfo | URL, init?: RequestInit) => {
      try {
        return await baseFetch(input, init);
      } catch (err) {
        throw BrainApiError.network(err);
      }
    },
    headers: async (): Promise<Record<string, string>> => {
      const token = await opts.getToken();
      return token ? { authorization: `Bearer ${token}` } : {};
    },
  });
  const keys = unwrapped(raw.vault.keys);
  const connectors = unwrapped(raw.connectors);
  const apiKeys = unwrapped(raw["api-keys"]);
  const usage = unwrapped(raw.usage);
  const chatPost = (args: unknown, options?: unknown): Promise<Response> =>
    (
      raw as unknown as { agents: Record<string, { chat: { $post(a: unknown, o?: unknown): Promise<Response> } }> }
    ).agents[":agent_id"]!.chat.$post(args, options);
  const section = <K extends string>(name: K) =>
    unwrapped((raw as unknown as Record<string, unknown>)[name]) as Section<K>;

  return {
    vault: {
      /** Stores or rotates (a new version) the tenant's key for `service`. Admins only. */
      storeKey: (
        service: string,
        apiKey: string,
        o: {
          metadata?: Record<string, string | number | boolean | null>;
          expectedVersion?: number;
          /** A credential's fields besides the key (Azure OpenAI: endpoint, deployment, api_version). */
          fields?: { endpoint?: string; deployment?: string; api_version?: string };
          /** Ask the provider first: a key it rejects is not stored (`provider_key_rejected`). */
          verify?: boolean;
          /** When the provider key stops working (ISO 8601 date-time). */
          expiresAt?: string;
        } = {},
      ) =>
        keys[":service"].$post({
          param: { service },
          json: {
            service,
            api_key: apiKey,
            ...o.fields,
            ...(o.metadata ? { metadata: o.metadata } : {}),
            ...(o.expectedVersion !== undefined ? { expected_version: o.expectedVersion } : {}),
            ...(o.verify ? { verify: true } : {}),
            ...(o.expiresAt ? { expires_at: o.expiresAt } : {}),
          },
        }),
      /** Asks the provider again whether the stored key works; the verdict is kept on the key's record. Admins only. */
      verifyKey: (service: string) => keys[":service"].verify.$post({ param: { service } }),
      /** The key's metadata (never the key); `not_found` when none is stored. */
      getKey: (service: string) => keys[":service"].$get({ param: { service } }),
      /** Deletes the key and every version of it. Admins only. */
      deleteKey: (service: string) => keys[":service"].$delete({ param: { service } }),
      /** The tenant's stored keys: `{ keys: service names, items: metadata }`. */
      listKeys: () => keys.$get(),
    },
    audit: {
      /** A page of the tenant's audit trail, newest first. Admins only. */
      list: (query: AuditLogQuery = {}) =>
        unwrapped(raw["audit-logs"]).$get({
          query: Object.fromEntries(
            Object.entries(query)
              .filter(([, v]) => v !== undefined)
              .map(([k, v]) => [k, String(v)]),
          ),
        }),
    },
    connectors: {
      /** The tenant's connectors, each with credential hints (never the credentials) and its last run. */
      list: () => connectors.$get(),
      /** One connector; `not_found` when it is not the tenant's. */
      get: (id: string) => connectors[":id"].$get({ param: { id } }),
      /**
       * Connects a source (admins only). The URL and credentials are checked first: a refusal is
       * `connector_check_failed` (the service said no) or `url_not_allowed` (the reach rules).
       */
      create: (body: CreateConnectorJson) => connectors.$post({ json: body }),
      /** Changes settings (merged), scope or schedule, or rotates the credentials (admins only). */
      update: (id: string, body: UpdateConnectorJson) => connectors[":id"].$patch({ param: { id }, json: body }),
      /** Deletes a connector (admins only); `knowledge: "keep"` keeps the documents it synced, "remove" (default) deletes them. */
      delete: (id: string, o: { knowledge?: "remove" | "keep" } = {}) =>
        connectors[":id"].$delete({ param: { id }, query: { knowledge: o.knowledge ?? "remove" } }),
      /** Starts a sync (admins only): `{ run_id }` at once; `conflict` while another run is active. */
      sync: (id: string) => connectors[":id"].sync.$post({ param: { id } }),
      /** The connector's runs, newest first. */
      runs: (id: string, o: { limit?: number } = {}) =>
        connectors[":id"].runs.$get({
          param: { id },
          query: o.limit === undefined ? {} : { limit: String(o.limit) },
        }),
      /** One run: status, counts, timings, the failed step's error. */
      run: (id: string, runId: string) => connectors[":id"].runs[":run_id"].$get({ param: { id, run_id: runId } }),
    },
    apiKeys: {
      /**
       * Creates a tenant API key (admins only). The answer's `key` is the only time the key is
       * shown: show it once, never store it; the gateway keeps its hash and a hint.
       */
      create: (body: CreateApiKeyJson) => apiKeys.$post({ json: body }),
      /** The tenant's API keys, newest first, revoked and expired ones included (hints only); `next_cursor` pages on. */
      list: (o: { limit?: number; cursor?: string } = {}) =>
        apiKeys.$get({
          query: {
            ...(o.limit === undefined ? {} : { limit: String(o.limit) }),
            ...(o.cursor === undefined ? {} : { cursor: o.cursor }),
          },
        }),
      /** One key's record (never the key); `not_found` when it is not the tenant's. */
      get: (id: string) => apiKeys[":id"].$get({ param: { id } }),
      /** Revokes a key (admins only): its next request is refused. Revoking again changes nothing. */
      revoke: (id: string) => apiKeys[":id"].$delete({ param: { id } }),
    },
    usage: {
      /**
       * Requests, tokens and exact cost (decimal USD strings) grouped by `group_by`; admins get the
       * tenant's (`scope: "tenant"`), members their own calls (`scope: "user"`).
       */
      report: (query: UsageQuery = {}) => usage.$get({ query }),
      /** The tenant's monthly budgets with this month's spend (admins only). */
      budgets: () => usage.budgets.$get(),
      /** Sets the tenant's monthly budget, e.g. "250.00" (admins only); provider calls are refused (402) once it is spent. */
      setTenantBudget: (monthlyLimitUsd: string) =>
        usage.budgets.tenant.$put({ json: { monthly_limit_usd: monthlyLimitUsd } }),
      /** Removes the tenant's monthly budget (admins only); `not_found` when none is set. */
      removeTenantBudget: () => usage.budgets.tenant.$delete(),
      /** Sets a tenant API key's monthly budget (admins only); calls made with the key are refused (402) once it is spent. */
      setApiKeyBudget: (id: string, monthlyLimitUsd: string) =>
        usage.budgets["api-keys"][":id"].$put({ param: { id }, json: { monthly_limit_usd: monthlyLimitUsd } }),
      /** Removes a tenant API key's monthly budget (admins only); `not_found` when none is set. */
      removeApiKeyBudget: (id: string) => usage.budgets["api-keys"][":id"].$delete({ param: { id } }),
    },
    /** Agents: `agents.$get()`, `agents.$post({ json })`, `agents[":agent_id"].$patch({ param, json })`… (unwrapped). */
    agents: section("agents"),
    /** Knowledge: `knowledge.documents.$post({ json })`, `knowledge.search.$post({ json })`… (unwrapped). */
    knowledge: section("knowledge"),
    chat: {
      /** Asks an agent and waits for the whole answer. */
      send: async (agentId: string, messages: ChatMessage[]): Promise<ChatReply> =>
        (await settle(
          await chatPost({ param: { agent_id: agentId }, json: { messages, stream: false } }),
        )) as ChatReply,
      /** Asks an agent and yields the answer's events as they arrive; `signal` stops the stream. */
      stream: async function* (
        agentId: string,
        messages: ChatMessage[],
        o: { signal?: AbortSignal } = {},
      ): AsyncGenerator<ChatStreamEvent> {
        const res = await chatPost(
          { param: { agent_id: agentId }, json: { messages, stream: true } },
          o.signal ? { init: { signal: o.signal } } : undefined,
        );
        if (!res.ok) throw await BrainApiError.fromResponse(res);
        if (!res.body)
          throw new BrainApiError({
            title: "Unexpected response",
            status: res.status,
            code: "unexpected_response",
            detail: "The stream had no body.",
          });
        for await (const ev of readSse(res.body)) {
          if (ev.event === "error") {
            const data = (ev.data ?? {}) as { code?: string; detail?: string };
            throw new BrainApiError({
              title: "Stream interrupted",
              status: 0,
              code: (data.code ?? "internal_error") as BrainErrorCode,
              detail: data.detail ?? "The answer was interrupted.",
              requestId: res.headers.get("x-request-id") ?? undefined,
            });
          }
          yield ev as ChatStreamEvent;
        }
      },
    },
    /** The underlying Hono client, for anything the wrappers do not cover (responses are not unwrapped). */
    raw,
  };
}

/** The client's type, for dependency injection and props. */
export type BrainApi = ReturnType<typeof createBrainApi>;
