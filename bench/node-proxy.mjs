/**
 * The bare Node proxy: Portkey's floor on its own runtime. A node:http server that forwards
 * each request (method, path, headers, body) to TARGET with fetch, as Portkey's Node build
 * does, and streams the answer back. Nothing else. Runs in its own process, as Portkey does.
 *   TARGET=http://127.0.0.1:8300/openai node bench/node-proxy.mjs   (prints {"port": N})
 */
import http from "node:http";

const target = process.env.TARGET;
if (!target) throw new Error("TARGET is required");
// Hop-by-hop headers and the ones fetch sets itself.
const DROP = new Set(["host", "connection", "keep-alive", "transfer-encoding", "content-length"]);

const server = http.createServer(async (req, res) => {
  try {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const headers = {};
    for (const [k, v] of Object.entries(req.headers)) if (!DROP.has(k) && typeof v === "string") headers[k] = v;
    const upstream = await fetch(target + req.url, {
      method: req.method,
      headers,
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    });
    const out = {};
    for (const [k, v] of upstream.headers) if (!DROP.has(k)) out[k] = v;
    res.writeHead(upstream.status, out);
    if (upstream.body) for await (const chunk of upstream.body) res.write(chunk);
    res.end();
  } catch (err) {
    if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
    res.end(String(err));
  }
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
