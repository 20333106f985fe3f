/**
 * The workerd harness: Workers under test run in one Miniflare (workerd) process,
 * each reachable from Node on its own direct socket (no Miniflare entry worker,
 * no wrangler dev proxy in between), plus the floor Workers they are compared with.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import http from "node:http";
import { Miniflare, convertV4MiniflareOptions, type Json } from "miniflare";
import { rng } from "./stats";

export const COMPATIBILITY_DATE = "2026-11-01";
export const COMPATIBILITY_FLAGS = ["nodejs_compat"];

/** The audit queues as wrangler.toml binds them (the audit write goes through the queue, off the path). */
export const AUDIT_QUEUES = {
  queueProducers: { AUDIT_QUEUE: "brain-gateway-audit", AUDIT_DLQ: "brain-gateway-audit-dlq" },
  queueConsumers: {
    "brain-gateway-audit": {
      maxBatchSize: 100,
      maxBatchTimeout: 1,
      maxRetries: 10,
      deadLetterQueue: "brain-gateway-audit-dlq",
    },
  },
};

export interface WorkerSpec {
  name: string;
  script: string;
  bindings?: Record<string, Json>;
  /** Route every outbound fetch of this Worker to the named Worker (instead of the network). */
  outbound?: string;
  /** Bind TENANT_RATE_LIMITER (Miniflare's local simulation), as wrangler.toml does in production. */
  rateLimiter?: boolean;
  /** Further Miniflare worker options (e.g. the audit queues' producers and consumers). */
  extra?: Record<string, unknown>;
}

export interface Harness {
  url(name: string): URL;
  /** A queue producer binding of a Worker, usable from Node. */
  queue(binding: string, worker: string): ReturnType<Miniflare["getQueueProducer"]>;
  /** Lines the Workers logged (console.*), counted and discarded so they do not cost terminal time. */
  logLines(): number;
  dispose(): Promise<void>;
}

/** `inspectorPort`: workerd's DevTools endpoint (CPU profiles, bench/profile.ts); off by default. */
export async function startWorkers(workers: WorkerSpec[], opts: { inspectorPort?: number } = {}): Promise<Harness> {
  let lines = 0;
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      ...(opts.inspectorPort ? { inspectorPort: opts.inspectorPort } : {}),
      handleStructuredLogs: () => {
        lines++;
      },
      workers: workers.map((w) => ({
        name: w.name,
        modules: true,
        script: w.script,
        compatibilityDate: COMPATIBILITY_DATE,
        compatibilityFlags: COMPATIBILITY_FLAGS,
        bindings: w.bindings ?? {},
        ...(w.outbound ? { outboundService: w.outbound } : {}),
        ...(w.rateLimiter
          ? {
              ratelimits: {
                TENANT_RATE_LIMITER: { namespace_id: "1001", simple: { limit: 1_000_000_000, period: 60 as const } },
              },
            }
          : {}),
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
        ...w.extra,
      })),
    }),
  );
  await mf.ready;
  const urls = new Map<string, URL>();
  for (const w of workers) urls.set(w.name, await mf.unsafeGetDirectURL(w.name));
  return {
    url: (name) => {
      const u = urls.get(name);
      if (!u) throw new Error(`no worker ${name}`);
      return u;
    },
    queue: (binding, worker) => mf.getQueueProducer(binding, worker),
    logLines: () => lines,
    dispose: () => mf.dispose(),
  };
}

/** A Worker that answers a constant: the cost of a request into workerd and back. */
export const EMPTY_WORKER = `export default { fetch() { return new Response('{"ok":true}', { headers: { "content-type": "application/json" } }); } };`;

/** The bare proxy: forwards the request to env.TARGET (same path and query) with fetch and returns the response. */
export const BARE_PROXY_WORKER = `
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    return fetch(env.TARGET + url.pathname + url.search, { method: request.method, headers: request.headers, body: request.body });
  },
};`;

/**
 * The floor for the gateway: the same upstream calls the gateway makes for
 * GET /vault/keys/:service, with the same URLs, headers and bodies, and nothing else —
 * Vault metadata and the connector_configs select in parallel, then the audit
 * insert handed to waitUntil, exactly as the gateway does.
 */
export const SAME_CALLS_WORKER = `
const send = (c) => fetch(c.url, { method: c.method, headers: c.headers, body: c.body ?? undefined });
export default {
  async fetch(request, env, ctx) {
    const c = env.CALLS;
    const [vault, select] = await Promise.all([send(c.vault), send(c.select)]);
    const [body] = await Promise.all([vault.text(), select.text()]);
    ctx.waitUntil(send(c.insert).then((r) => r.text()));
    return new Response(body, { status: vault.status, headers: { "content-type": "application/json" } });
  },
};`;

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

export interface Sent {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** One HTTP request over a keep-alive socket; resolves once the whole body is read. */
export function send(url: URL, opts: Sent = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? "GET", headers: opts.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(opts.body);
  });
}

export interface Target {
  name: string;
  request: () => Promise<{ status: number; body: string }>;
  expect: number;
}

/**
 * `rounds` rounds over `items`, each round in a fresh random order (seeded: the same every run), so
 * drift, background work and what the previous request left behind (a waitUntil, another process's
 * logging) fall on every item alike — a fixed rotation always puts the same item after the same
 * neighbour.
 */
export function* interleaved<T>(items: readonly T[], rounds: number): Generator<{ round: number; item: T }> {
  const random = rng(0x5eed);
  for (let round = 0; round < rounds; round++) {
    const order = [...items];
    for (let j = order.length - 1; j > 0; j--) {
      const k = Math.floor(random() * (j + 1));
      [order[j], order[k]] = [order[k]!, order[j]!];
    }
    for (const item of order) yield { round, item };
  }
}

/**
 * Times `rounds` requests per target, one at a time, interleaved (`interleaved`). Returns
 * microseconds per request, from first byte sent to last byte read.
 */
export async function timeInterleaved(
  targets: Target[],
  rounds: number,
  warmup: number,
): Promise<Map<string, number[]>> {
  const out = new Map(targets.map((t) => [t.name, [] as number[]]));
  for (const { round, item: t } of interleaved(targets, warmup + rounds)) {
    const start = process.hrtime.bigint();
    const res = await t.request();
    const us = Number(process.hrtime.bigint() - start) / 1000;
    if (res.status !== t.expect)
      throw new Error(`${t.name}: status ${res.status} (expected ${t.expect}): ${res.body.slice(0, 300)}`);
    if (round >= warmup) out.get(t.name)!.push(us);
  }
  return out;
}

/** workerd processes started by this Node process (Miniflare spawns workerd directly). */
function workerdPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const comm = stat.slice(stat.indexOf("(") + 1, close);
      const ppid = Number(stat.slice(close + 2).split(" ")[1]);
      if (comm.startsWith("workerd") && ppid === process.pid) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** CPU time (ns) workerd's threads have run so far; NaN off Linux. */
export function workerdCpuNs(): number {
  let total = 0;
  for (const pid of workerdPids()) total += processCpuNs(pid);
  return total;
}

/** CPU time (ns) a process's threads have run so far, from /proc/<pid>/task/<tid>/schedstat; NaN off Linux. */
export function processCpuNs(pid: number): number {
  if (!existsSync("/proc/self/schedstat")) return Number.NaN;
  let total = 0;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return 0; // the process ended
  }
  for (const tid of tids) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // thread exited
    }
  }
  return total;
}

/**
 * workerd CPU per request (µs): `total` requests, `concurrency` in flight, then a
 * pause so waitUntil work finishes before the CPU counter is read again. This is
 * every instruction workerd ran for the request, after the response included.
 */
export async function cpuPerRequest(t: Target, total: number, concurrency: number, settleMs = 100): Promise<number> {
  const before = workerdCpuNs();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next++;
        const res = await t.request();
        if (res.status !== t.expect) throw new Error(`${t.name}: status ${res.status}: ${res.body.slice(0, 300)}`);
      }
    }),
  );
  await new Promise((r) => setTimeout(r, settleMs));
  return (workerdCpuNs() - before) / 1000 / total;
}
