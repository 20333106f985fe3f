import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleAnthropic } from "./anthropic";
import { handleAzure, isAzurePath } from "./azure";
import { CallLog, type HandlerContext, type RecordedCall } from "./calls";
import { sendJson } from "./http";
import { handleOpenAI } from "./openai";

export { embedText } from "./embeddings";
export type { RecordedCall } from "./calls";

/** Options for {@link startLlmProvider}. */
export interface LlmProviderOptions {
  /** 0 or undefined picks a free port. */
  port?: number;
  /** Interface to bind; defaults to 127.0.0.1. */
  host?: string;
  /** Delay between streamed chunks in ms; default 5. */
  tokenDelayMs?: number;
  /**
   * A chat answer's time to first token in ms (nothing is sent before it; streamed, the first piece
   * comes with it, the rest every tokenDelayMs); default 0: the first piece after tokenDelayMs.
   */
  firstTokenMs?: number;
}

/** The stand-in's model timing, changeable while it runs. */
export interface LlmLatency {
  firstTokenMs?: number;
  tokenDelayMs?: number;
}

/** A running stand-in for the OpenAI and Anthropic HTTP APIs. */
export interface LlmProviderStandIn {
  /** e.g. `http://127.0.0.1:PORT` */
  url: string;
  /** `${url}/openai/v1`, in place of https://api.openai.com/v1 */
  openaiBaseUrl: string;
  /** `${url}/anthropic`, in place of https://api.anthropic.com (messages at /v1/messages) */
  anthropicBaseUrl: string;
  /** `url` itself: an Azure OpenAI resource's endpoint, in place of https://<resource>.openai.azure.com */
  azureEndpoint: string;
  port: number;
  /** Authenticated calls so far, oldest first. */
  calls(): RecordedCall[];
  clearCalls(): void;
  /** Changes the time to first token and/or the delay between pieces for the calls that follow. */
  setLatency(l: LlmLatency): void;
  close(): Promise<void>;
}

const OPENAI_PREFIX = "/openai/v1";
const ANTHROPIC_PREFIX = "/anthropic";
const CALLS_PATH = "/__standin/calls";

async function route(req: IncomingMessage, res: ServerResponse, ctx: HandlerContext): Promise<void> {
  const url = new URL(req.url ?? "/", "http://stand-in");
  const path = url.pathname;
  if (isAzurePath(path)) {
    await handleAzure(req, res, url, ctx);
    return;
  }
  if (path === OPENAI_PREFIX || path.startsWith(`${OPENAI_PREFIX}/`)) {
    await handleOpenAI(req, res, path, path.slice(OPENAI_PREFIX.length), ctx);
    return;
  }
  if (path.startsWith(`${ANTHROPIC_PREFIX}/`)) {
    await handleAnthropic(req, res, path, path.slice(ANTHROPIC_PREFIX.length), ctx);
    return;
  }
  // Control endpoints over HTTP, for tests running in workerd that only have fetch.
  if (path === CALLS_PATH && req.method === "GET") {
    sendJson(res, 200, { calls: ctx.calls.list() });
    return;
  }
  if (path === CALLS_PATH && req.method === "DELETE") {
    ctx.calls.clear();
    res.writeHead(204).end();
    return;
  }
  if (path === "/__standin/health" && req.method === "GET") {
    sendJson(res, 200, { ok: true });
    return;
  }
  sendJson(res, 404, {
    error: {
      message: `No stand-in route for ${req.method ?? "GET"} ${path}`,
      type: "not_found",
      param: null,
      code: null,
    },
  });
}

/** Start the stand-in on 127.0.0.1 (a free port unless one is given). */
export async function startLlmProvider(opts: LlmProviderOptions = {}): Promise<LlmProviderStandIn> {
  const host = opts.host ?? "127.0.0.1";
  const ctx: HandlerContext = {
    firstTokenMs: 0,
    tokenDelayMs: 5,
    calls: new CallLog(),
  };
  const setLatency = (l: LlmLatency) => {
    for (const k of ["firstTokenMs", "tokenDelayMs"] as const) {
      const v = l[k];
      if (v === undefined) continue;
      if (!Number.isFinite(v) || v < 0) throw new Error(`${k} must be a non-negative number of ms`);
      ctx[k] = v;
    }
  };
  setLatency({ firstTokenMs: opts.firstTokenMs, tokenDelayMs: opts.tokenDelayMs });

  const server = createServer((req, res) => {
    route(req, res, ctx).catch((error: unknown) => {
      // A bug in the stand-in must surface loudly in tests, not as a hang.
      console.error("[llm-provider] handler failed", error);
      if (!res.headersSent)
        sendJson(res, 500, {
          error: { message: "stand-in internal error", type: "server_error", param: null, code: null },
        });
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });

  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return {
    url,
    openaiBaseUrl: `${url}${OPENAI_PREFIX}`,
    anthropicBaseUrl: `${url}${ANTHROPIC_PREFIX}`,
    azureEndpoint: url,
    port,
    calls: () => ctx.calls.list(),
    clearCalls: () => ctx.calls.clear(),
    setLatency,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive and in-flight streams would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
}
