import { ProviderError } from "./errors";
import type { IdleTimer } from "./http";

export interface SseEvent {
  event: string | null;
  data: string;
}

/**
 * Parses a server-sent-events body as it arrives, yielding one event per blank
 * line. Each chunk re-arms the idle timer; a stall aborts the fetch and ends
 * in a ProviderError rather than a hung request. (`BufferSource`: see
 * src/client/sse.ts; the client's types, checked with the DOM lib, reach here.)
 */
export async function* readSse(
  provider: string,
  body: ReadableStream<BufferSource>,
  timer: IdleTimer,
): AsyncGenerator<SseEvent> {
  // Decoded here rather than through a TextDecoderStream: one stream stage less per chunk.
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event: string | null = null;
  let data: string[] = [];
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<BufferSource>;
      try {
        chunk = await reader.read();
      } catch {
        throw new ProviderError(provider, {
          kind: "unavailable",
          status: null,
          retryAfterSeconds: null,
          reason: timer.timedOut ? "stream stalled" : "stream broken",
        });
      }
      if (chunk.done) break;
      timer.touch();
      buffer += decoder.decode(chunk.value, { stream: true });
      for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
        const line = buffer.slice(0, nl).replace(/\r$/, "");
        buffer = buffer.slice(nl + 1);
        if (line === "") {
          if (data.length > 0) yield { event, data: data.join("\n") };
          event = null;
          data = [];
        } else if (line.startsWith("data:")) {
          data.push(line.slice(5).replace(/^ /, ""));
        } else if (line.startsWith("event:")) {
          event = line.slice(6).trim();
        }
      }
    }
    if (data.length > 0) yield { event, data: data.join("\n") };
  } finally {
    timer.clear();
    // Stops the upstream transfer when the caller stops early (client went away).
    await reader.cancel().catch(() => {});
  }
}
