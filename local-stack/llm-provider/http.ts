import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Larger bodies are refused: 2048 embedding inputs fit well below this. */
export const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** Result of reading a request body as JSON. */
export type BodyResult = { kind: "json"; value: unknown } | { kind: "invalid" } | { kind: "too_large" };

/** Read the whole request body and parse it as JSON. */
export async function readJsonBody(req: IncomingMessage): Promise<BodyResult> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    // Keep draining so the client sees our response rather than a reset socket.
    if (size <= MAX_BODY_BYTES) chunks.push(buf);
  }
  if (size > MAX_BODY_BYTES) return { kind: "too_large" };
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return { kind: "json", value: JSON.parse(text) as unknown };
  } catch {
    return { kind: "invalid" };
  }
}

/** Random id in the providers' style, e.g. `chatcmpl-…`, `msg_…`, `req_…`. */
export function randomId(prefix: string, bytes = 12): string {
  return `${prefix}${randomBytes(bytes).toString("hex")}`;
}

/** Send a JSON body with the given status and extra headers. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(payload).toString(),
    ...headers,
  });
  res.end(payload);
}

/** A Server-Sent Events response that stops writing once the client goes away. */
export class SseWriter {
  private closed = false;

  constructor(
    private readonly res: ServerResponse,
    headers: Record<string, string>,
  ) {
    res.on("close", () => {
      this.closed = true;
    });
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      ...headers,
    });
    // Send headers now so the client's fetch resolves before the first token.
    res.flushHeaders();
  }

  /** True once the client disconnected; producers should stop. */
  get isClosed(): boolean {
    return this.closed || this.res.destroyed;
  }

  /** Write one event: `event:` line only when named (Anthropic names events, OpenAI does not). */
  send(data: string, event?: string): void {
    if (this.isClosed) return;
    this.res.write(event === undefined ? `data: ${data}\n\n` : `event: ${event}\ndata: ${data}\n\n`);
  }

  /** End the response. */
  end(): void {
    if (!this.isClosed) this.res.end();
  }
}

/** Resolve after `ms` milliseconds (immediately for 0). */
export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/** Plain-object check for parsed JSON. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
