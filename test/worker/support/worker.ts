import {
  createExecutionContext,
  createMessageBatch,
  env,
  getQueueResult,
  waitOnExecutionContext,
} from "cloudflare:test";
import worker from "../../../src/index";
import { type AuditMessage, type AuditQueueBody, packAuditEvents, unpackAuditBody } from "../../../src/audit/store";
import type { Bindings } from "../../../src/env";
import { mintToken, type TokenOptions } from "./tokens";

export interface CallOptions {
  token?: string | null;
  /** Mint a token with these options (ignored when `token` is given). */
  as?: TokenOptions;
  body?: unknown;
  rawBody?: BodyInit;
  headers?: Record<string, string>;
  /** Replace or add bindings for this call (a new env object → config parsed anew). */
  env?: Partial<Bindings>;
  /** Runs after the response and its `waitUntil` work, before the audit queue is delivered (e.g. the database comes back). */
  beforeAuditDelivery?: () => Promise<void>;
}

export interface CallResult {
  res: Response;
  status: number;
  text: string;
  json: any;
}

/**
 * Hands queued audit messages to the Worker's real `queue()` handler, as the
 * platform would, and waits for it. A batch the consumer asks to retry is
 * delivered again with the test stack's own env (the platform retries later,
 * when the database is back), up to `attempts` deliveries in all. Returns the
 * last result.
 */
export async function deliverAudit(messages: AuditMessage[], e: Bindings = env as Bindings, attempts = 3) {
  let result: Awaited<ReturnType<typeof getQueueResult>> | undefined;
  // One queue message, packed as an isolate's send window packs its events.
  const body = packAuditEvents(messages.map((m) => JSON.stringify(m)));
  for (let attempt = 1; attempt <= attempts && messages.length > 0; attempt++) {
    const batch = createMessageBatch<AuditQueueBody>("brain-gateway-audit", [
      { id: "m0", timestamp: new Date(), attempts: attempt, body },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, attempt === 1 ? e : (env as Bindings));
    result = await getQueueResult(batch, ctx);
    if (!result.retryBatch.retry) break;
  }
  return result;
}

/** A producer binding that keeps the events the request sends, so `call` can deliver them to the consumer deterministically. */
function recordingQueue(sent: AuditMessage[]): Queue<AuditQueueBody> {
  return {
    send: async (body: AuditQueueBody) => void sent.push(...unpackAuditBody(body)),
  } as unknown as Queue<AuditQueueBody>;
}

/**
 * The test env for one request, with a recording audit queue: after the
 * request's `waitUntil` work settled, `deliver()` hands what it sent to the
 * Worker's queue consumer, so audit rows are in Postgres when it resolves.
 */
export function withAuditQueue(overrides?: Partial<Bindings>) {
  const sent: AuditMessage[] = [];
  const e = { ...env, AUDIT_QUEUE: recordingQueue(sent), ...overrides } as Bindings;
  return { env: e, sent, deliver: () => deliverAudit(sent, e) };
}

/**
 * Calls the Worker's fetch handler the way the runtime does, waits for every
 * `waitUntil` (audit sends) to settle, then delivers what was sent to the audit
 * queue to the Worker's queue consumer, so audit rows are in Postgres when it
 * returns. (test/worker/audit.queue.test.ts drives the real Miniflare queue.)
 */
export async function call(method: string, path: string, o: CallOptions = {}): Promise<CallResult> {
  const headers = new Headers(o.headers);
  const token = o.token === undefined ? await mintToken(o.as) : o.token;
  if (token) headers.set("authorization", `Bearer ${token}`);
  let body: BodyInit | undefined = o.rawBody;
  if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
  }
  const request = new Request(`https://gateway.test${path}`, { method, headers, body });
  const ctx = createExecutionContext();
  const audit = withAuditQueue(o.env);
  const res = await worker.fetch(request, audit.env, ctx);
  const text = await res.text();
  await waitOnExecutionContext(ctx);
  await o.beforeAuditDelivery?.();
  await audit.deliver();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { res, status: res.status, text, json };
}
