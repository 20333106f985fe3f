/**
 * Preloaded into Portkey's Node build (`node --import`) so that it can stream at all.
 * @portkey-ai/gateway 1.15.2 appends its x-portkey-* headers to the Response that `fetch`
 * returned; with the @hono/node-server it installs (≥ 1.14) a streamed answer keeps fetch's
 * immutable Headers, and every stream fails with "TypeError: immutable" (Portkey-AI/gateway
 * issues #1389 and #1550, open). Here an event stream comes back as the same Response with
 * mutable headers (one object, no copy of the body); every other answer is untouched.
 */
const originalFetch = globalThis.fetch;
// Captured now: @hono/node-server replaces the global Response when Portkey starts.
const FetchResponse = globalThis.Response;

globalThis.fetch = async (...args) => {
  const res = await originalFetch(...args);
  if (!res.headers.get("content-type")?.startsWith("text/event-stream")) return res;
  return new FetchResponse(res.body, { status: res.status, statusText: res.statusText, headers: res.headers });
};
