import type { Context } from "hono";

/** workerd's global, declared here because the browser's typecheck (web/) reaches this file through the app's types. */
declare const IdentityTransformStream: new () => {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
};

/**
 * Answers with server-sent events that `pump` writes as they come (each provider piece at once,
 * nothing collected first). The body is workerd's native byte stream (`IdentityTransformStream`):
 * what `pump` writes goes to the socket without a JavaScript stream in between, which a
 * `TransformStream` would add to every chunk. `waitUntil` keeps `pump` running to its end, a
 * client that leaves included, so it always records the call's outcome.
 */
export function eventStream(c: Context, pump: (writable: WritableStream<Uint8Array>) => Promise<void>): Response {
  const { readable, writable } = new IdentityTransformStream();
  c.executionCtx.waitUntil(pump(writable));
  return c.body(readable, 200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    "x-accel-buffering": "no",
  });
}
