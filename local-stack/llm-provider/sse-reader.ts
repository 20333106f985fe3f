/** One Server-Sent Event as a client sees it. */
export interface SseEvent {
  /** The `event:` name, or null when the server sent none (OpenAI). */
  event: string | null;
  data: string;
  /** performance.now() when the event was fully received. */
  receivedAt: number;
}

/**
 * Read a `text/event-stream` response body to the end, event by event, exactly
 * as a streaming client would (for tests of the stand-in and of its callers).
 */
export async function readSse(response: Response): Promise<SseEvent[]> {
  if (response.body === null) throw new Error("response has no body");
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const events: SseEvent[] = [];
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n/g, "\n");
    let boundary = buffer.indexOf("\n\n");
    while (boundary !== -1) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      const parsed = parseBlock(block);
      if (parsed !== null) events.push({ ...parsed, receivedAt: performance.now() });
      boundary = buffer.indexOf("\n\n");
    }
  }
  if (buffer.trim().length > 0) throw new Error(`stream ended mid-event: ${JSON.stringify(buffer)}`);
  return events;
}

function parseBlock(block: string): { event: string | null; data: string } | null {
  let event: string | null = null;
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue; // comment / keep-alive
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  return data.length === 0 && event === null ? null : { event, data: data.join("\n") };
}
