/**
 * Chat time to first token: POST /agents/:id/chat with stream: true through the
 * Worker, beside a direct streaming call to the provider stand-in (same model,
 * same question), interleaved. Two tenants: one whose agent retrieves from the
 * 10k-chunk knowledge base before calling the model, one with no knowledge.
 */
import http from "node:http";
import type { LocalStack } from "../local-stack/stack";
import { devToken } from "../scripts/token";
import { TENANT } from "./keys";
import { send, startWorkers } from "./miniflare";
import { section, summarize, timedRow, verdict, type Row } from "./stats";

const PLAIN_TENANT = "6f1c2a9e-4b7d-4e21-9c3a-5d8e7f00c0de";
const USER = "00000000-0000-4000-8000-00000000be01";
const MODEL = "gpt-4o-mini";
const API_KEY = "sk-bench-0123456789abcdefghij";
const QUESTION = "What does the knowledge base say about tansol and verrin?";

export interface ChatOptions {
  rounds: number;
}

/**
 * µs from sending the request until the response holds a first token (`isFirst`
 * on the text so far); the connection is then dropped, as a client that has
 * what it measures. A fresh connection each time, on both sides alike.
 */
function timeToFirstToken(
  url: URL,
  headers: Record<string, string>,
  body: string,
  isFirst: (text: string) => boolean,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const req = http.request(url, { method: "POST", headers, agent: false }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
        if (isFirst(text)) {
          resolve(Number(process.hrtime.bigint() - start) / 1000);
          req.destroy();
        }
      });
      res.on("end", () =>
        reject(new Error(`stream ended without a token (status ${res.statusCode}): ${text.slice(0, 300)}`)),
      );
      res.on("error", () => {});
    });
    req.on("error", (err) => reject(err));
    req.end(body);
  });
}

/** The gateway's SSE: `event: delta` carries text. */
const gatewayDelta = (text: string) => text.includes("event: delta");
/** OpenAI's SSE: the first chunk whose delta has non-empty content (the role chunk has ""). */
const openaiDelta = (text: string) => /"delta":\{[^}]*"content":"[^"]/.test(text);

export async function benchChat(
  bundle: string,
  stack: LocalStack,
  o: ChatOptions,
): Promise<{ rows: Row[]; notes: string[] }> {
  const h = await startWorkers([{ name: "gw-real", script: bundle, bindings: stack.vars }]);
  try {
    const base = h.url("gw-real");
    const json = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });
    const tokens = {
      rag: {
        admin: await devToken({ tenant: TENANT, user: USER, roles: ["admin"], ttlSeconds: 7200 }),
        member: await devToken({ tenant: TENANT, user: USER, roles: ["member"], ttlSeconds: 7200 }),
      },
      plain: {
        admin: await devToken({ tenant: PLAIN_TENANT, user: USER, roles: ["admin"], ttlSeconds: 7200 }),
        member: await devToken({ tenant: PLAIN_TENANT, user: USER, roles: ["member"], ttlSeconds: 7200 }),
      },
    };
    // TENANT's key was stored by the keys bench; the plain tenant gets the same key.
    const setup = [
      send(new URL("/vault/keys/openai", base), {
        method: "POST",
        headers: json(tokens.plain.admin),
        body: JSON.stringify({ service: "openai", api_key: API_KEY }),
      }),
      send(new URL("/agents", base), {
        method: "POST",
        headers: json(tokens.rag.admin),
        body: JSON.stringify({ agent_id: "bench-rag", name: "Bench RAG", llm_model: MODEL }),
      }),
      send(new URL("/agents", base), {
        method: "POST",
        headers: json(tokens.plain.admin),
        body: JSON.stringify({ agent_id: "bench-plain", name: "Bench", llm_model: MODEL }),
      }),
    ];
    for (const r of await Promise.all(setup))
      if (r.status >= 300) throw new Error(`chat setup: ${r.status} ${r.body.slice(0, 300)}`);

    const ask = JSON.stringify({ messages: [{ role: "user", content: QUESTION }], stream: true });
    const targets = {
      direct: () =>
        timeToFirstToken(
          new URL(`${stack.llm.openaiBaseUrl}/chat/completions`),
          { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
          JSON.stringify({
            model: MODEL,
            messages: [
              { role: "system", content: "You are a helpful assistant." },
              { role: "user", content: QUESTION },
            ],
            stream: true,
          }),
          openaiDelta,
        ),
      plain: () =>
        timeToFirstToken(new URL("/agents/bench-plain/chat", base), json(tokens.plain.member), ask, gatewayDelta),
      rag: () => timeToFirstToken(new URL("/agents/bench-rag/chat", base), json(tokens.rag.member), ask, gatewayDelta),
    };
    const names = Object.keys(targets) as Array<keyof typeof targets>;
    const samples = { direct: [] as number[], plain: [] as number[], rag: [] as number[] };
    const warmup = 5;
    for (let i = 0; i < warmup + o.rounds; i++) {
      for (let j = 0; j < names.length; j++) {
        const name = names[(i + j) % names.length]!;
        const us = await targets[name]();
        if (i >= warmup) samples[name].push(us);
      }
    }
    const direct = summarize(samples.direct);
    const plain = summarize(samples.plain);
    const rag = summarize(samples.rag);
    const rows: Row[] = [
      section("4b. chat time to first token, stream: true (provider stand-in sends a token every 5 ms)"),
    ];
    rows.push(timedRow("direct: Node → OpenAI stand-in stream", direct, direct));
    rows.push(
      timedRow(
        "gateway chat, tenant without knowledge",
        plain,
        direct,
        `≤ 1.2×: ${verdict(plain.median / direct.median <= 1.2)}`,
      ),
    );
    rows.push(
      timedRow(
        "gateway chat, RAG over 10k chunks",
        rag,
        direct,
        `≤ 1.2×: ${verdict(rag.median / direct.median <= 1.2)}`,
      ),
    );
    const notes = [
      "chat TTFT = request sent → first text token on the wire (gateway: first `event: delta`; direct: first non-empty delta.content), fresh connection each; the gateway first reads the agent, the key from Vault, and for RAG embeds the question and searches before it calls the model",
    ];
    return { rows, notes };
  } finally {
    await h.dispose();
  }
}
