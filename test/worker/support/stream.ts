import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../../src/index";
import { mintToken, type TokenOptions } from "./tokens";
import { withAuditQueue } from "./worker";

export interface SseChunk {
  /** ms since the request was sent */
  at: number;
  text: string;
}

export interface StreamResult {
  res: Response;
  status: number;
  /** Body pieces in arrival order, with their arrival time. */
  chunks: SseChunk[];
  /** When the body ended (ms since the request was sent). */
  endedAt: number;
  events: Array<{ event: string; data: any }>;
  text: string;
}

/**
 * Like `call`, but reads the body incrementally and records when each piece
 * arrived, so tests can prove the Worker streams rather than buffers. Waits
 * for waitUntil work (audit rows) after the body ends.
 */
export async function callStream(path: string, body: unknown, as: TokenOptions): Promise<StreamResult> {
  const started = Date.now();
  const { res, settled } = await openStream(path, body, as);
  const chunks: SseChunk[] = [];
  const decoder = new TextDecoder();
  if (res.body) {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push({ at: Date.now() - started, text: decoder.decode(value, { stream: true }) });
    }
  }
  const endedAt = Date.now() - started;
  await settled();
  const text = chunks.map((c) => c.text).join("");
  return { res, status: res.status, chunks, endedAt, events: parseSse(text), text };
}

/**
 * Sends a POST and returns the response unread, so a test can read part of the
 * body and walk away; `settled` waits for the Worker's waitUntil work.
 */
export async function openStream(
  path: string,
  body: unknown,
  as: TokenOptions,
): Promise<{ res: Response; settled: () => Promise<void> }> {
  const headers = new Headers({ authorization: `Bearer ${await mintToken(as)}`, "content-type": "application/json" });
  const ctx = createExecutionContext();
  const audit = withAuditQueue();
  const res = await worker.fetch(
    new Request(`https://gateway.test${path}`, { method: "POST", headers, body: JSON.stringify(body) }),
    audit.env,
    ctx,
  );
  // After the waitUntil work, what it sent to the audit queue goes to the Worker's consumer.
  return {
    res,
    settled: async () => {
      await waitOnExecutionContext(ctx);
      await audit.deliver();
    },
  };
}

/** Reads a streamed body until `seen` matches what arrived, then cancels it: a client that walks away mid-answer. */
export async function readThenLeave(res: Response, seen: RegExp): Promise<void> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!seen.test(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the stream ended before ${seen}`);
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
}

/** Parses `event:`/`data:` blocks; data is JSON. */
export function parseSse(text: string): Array<{ event: string; data: any }> {
  return text
    .split("\n\n")
    .filter((b) => b.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? "message";
      const data = block
        .split("\n")
        .filter((l) => l.startsWith("data: "))
        .map((l) => l.slice(6))
        .join("\n");
      let parsed: unknown = data;
      try {
        parsed = JSON.parse(data);
      } catch {
        // keep the raw text
      }
      return { event, data: parsed };
    });
}
