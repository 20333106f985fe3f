/**
 * Real upstream answers, captured once and replayed. A recording proxy in Node
 * sits between the gateway and the stand-ins for one GET /vault/keys/:service;
 * what it saw (the Vault metadata call, the connector_configs select and the
 * audit insert, with their exact requests and responses) then feeds the
 * instant in-runtime upstream and the same-calls floor Worker.
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

export interface Exchange {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  status: number;
  contentType: string;
  response: string;
}

/** Request headers worth replaying: the protocol's own, not the transport's. */
const KEEP = /^(content-type|accept|neon-.*|x-vault-.*)$/i;

export interface Recorder {
  url: string;
  exchanges: Exchange[];
  close(): Promise<void>;
}

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** Forwards every request to `target` (an origin) and records the exchange. Binds 127.0.0.1 only. */
export async function startRecorder(target: string): Promise<Recorder> {
  const exchanges: Exchange[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (KEEP.test(k) && typeof v === "string") headers[k] = v;
      const method = req.method ?? "GET";
      const upstream = await fetch(target + (req.url ?? "/"), {
        method,
        headers,
        body: method === "GET" || method === "HEAD" ? undefined : body,
      });
      const response = await upstream.text();
      const contentType = upstream.headers.get("content-type") ?? "application/json";
      exchanges.push({ method, path: req.url ?? "/", headers, body, status: upstream.status, contentType, response });
      res.writeHead(upstream.status, { "content-type": contentType });
      res.end(response);
    })().catch((err: unknown) => {
      res.writeHead(502).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The three calls behind one GET /vault/keys/:service. */
export interface KeyReadCalls {
  vault: Exchange;
  select: Exchange;
  insert: Exchange;
}

// Bodies are JSON ({"query": "...", "params": [...]}), so the SQL's quotes arrive escaped.
/** The audit write: `audit_append` (the chained insert, from the consumer or the direct fallback). */
export const isAuditInsert = (e: Exchange) => e.body.startsWith('{"query":"SELECT audit_append(');
export const isConnectorSelect = (e: Exchange) =>
  e.body.startsWith('{"query":"select') && e.body.includes('from \\"connector_configs\\"');

/**
 * The in-runtime upstream: answers the replayed calls at once, and the JWKS.
 * It counts what it answered per kind (GET /__bench/counts) so the bench can
 * show the gateway really made its calls, the waitUntil audit insert included.
 */
export const UPSTREAM_WORKER = `
let counts = {};
const json = (body, status = 200) => new Response(body, { status, headers: { "content-type": "application/json" } });
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const bump = (k) => { counts[k] = (counts[k] ?? 0) + 1; };
    const r = env.REPLAY;
    if (url.pathname === "/__bench/counts") return json(JSON.stringify(counts));
    if (url.pathname === "/__bench/reset") { counts = {}; return json("{}"); }
    if (url.pathname === r.jwksPath) { bump("jwks"); return json(r.jwks); }
    if (request.method === "GET" && url.pathname === r.vault.path.split("?")[0]) { bump("vault.metadata"); return json(r.vault.response, r.vault.status); }
    if (request.method === "POST" && url.pathname === "/sql") {
      const q = await request.text();
      if (q.startsWith('{"query":"insert into \\\\"audit_logs\\\\"')) { bump("sql.audit_insert"); return json(r.insert.response, r.insert.status); }
      if (q.startsWith('{"query":"select') && q.includes('from \\\\"connector_configs\\\\"')) { bump("sql.select"); return json(r.select.response, r.select.status); }
    }
    bump("unmatched");
    return json('{"message":"no replay for this request"}', 500);
  },
};`;
