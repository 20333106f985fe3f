/**
 * Where a Worker's time goes: a V8 CPU profile of one Worker taken over workerd's DevTools
 * endpoint while a load runs, its samples mapped back through the bundle's source map to the
 * gateway's own files (src/…) and to packages (node_modules/…). Built-ins (JSON, fetch, crypto)
 * count for the file that called them. The sampler measures the thread's wall time between
 * samples, so on a loaded machine every figure is inflated alike: read the shares.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { SourceMap } from "node:module";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileShare {
  /** A src/ file, a package, or (program) / (garbage collector). */
  where: string;
  /** Sampled µs per request. */
  us: number;
  /** Share of the busy (non-idle) samples. */
  share: number;
}

/** A minimal Chrome DevTools Protocol client over the Node 22 global WebSocket. */
async function devtools(wsUrl: string) {
  const ws = new WebSocket(wsUrl);
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new Error(`cannot open ${wsUrl}`)), { once: true });
  });
  let next = 0;
  const pending = new Map<number, (result: unknown) => void>();
  ws.addEventListener("message", (e) => {
    const m = JSON.parse(String(e.data)) as { id?: number; result?: unknown };
    if (m.id !== undefined) pending.get(m.id)?.(m.result);
    if (m.id !== undefined) pending.delete(m.id);
  });
  return {
    call: <T>(method: string, params: Record<string, unknown> = {}) =>
      new Promise<T>((resolve) => {
        const id = ++next;
        pending.set(id, resolve as (r: unknown) => void);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

/** node_modules/@scope/pkg/… → @scope/pkg; src/… as is. */
function place(source: string): string {
  const i = source.lastIndexOf("node_modules/");
  if (i === -1) return source.slice(Math.max(source.indexOf("src/"), 0));
  const parts = source.slice(i + "node_modules/".length).split("/");
  return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/**
 * Profiles `worker` (its name in the Miniflare harness started with `inspectorPort`) while `load`
 * runs `requests` requests; returns the busy time per request by where it was spent.
 */
export async function profileWorker(o: {
  inspectorPort: number;
  worker: string;
  sourceMapPath: string;
  requests: number;
  load: () => Promise<void>;
}): Promise<{ busyUsPerRequest: number; shares: ProfileShare[] }> {
  const targets = (await (await fetch(`http://127.0.0.1:${o.inspectorPort}/json`)).json()) as Array<{
    title?: string;
    id?: string;
    webSocketDebuggerUrl: string;
  }>;
  const target = targets.find((t) => (t.title ?? t.id ?? "").endsWith(`worker core:user:${o.worker}`));
  if (!target) throw new Error(`no DevTools target for ${o.worker}: ${targets.map((t) => t.title).join(", ")}`);
  const dt = await devtools(target.webSocketDebuggerUrl);
  let profile: CpuProfile;
  try {
    await dt.call("Profiler.enable");
    await dt.call("Profiler.setSamplingInterval", { interval: 100 });
    await dt.call("Profiler.start");
    await o.load();
    profile = (await dt.call<{ profile: CpuProfile }>("Profiler.stop")).profile;
  } finally {
    dt.close();
  }

  // BENCH_CPUPROFILE=<file>: the raw profile too (open in Chrome DevTools, or bench/profile-top.ts for the hottest lines).
  if (process.env.BENCH_CPUPROFILE) writeFileSync(process.env.BENCH_CPUPROFILE, JSON.stringify(profile));
  const map = new SourceMap(JSON.parse(readFileSync(o.sourceMapPath, "utf8")));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const whereOf = new Map<number, string>();
  /** The first frame up the stack that maps to a source file; built-ins count for their caller. */
  const where = (id: number): string => {
    const known = whereOf.get(id);
    if (known) return known;
    const n = nodes.get(id)!;
    const fn = n.callFrame.functionName;
    let out: string;
    if (fn === "(program)" || fn === "(garbage collector)" || fn === "(idle)" || fn === "(root)") out = fn;
    else if (n.callFrame.url.startsWith("script-")) {
      const entry = map.findEntry(n.callFrame.lineNumber, n.callFrame.columnNumber) as { originalSource?: string };
      out = entry.originalSource ? place(entry.originalSource) : "(bundle, unmapped)";
    } else {
      const up = parent.get(id);
      out = up === undefined ? "(runtime)" : where(up);
      if (out === "(root)") out = "(runtime)";
    }
    whereOf.set(id, out);
    return out;
  };
  const byWhere = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const w = where(id);
    byWhere.set(w, (byWhere.get(w) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  byWhere.delete("(idle)");
  const busy = [...byWhere.values()].reduce((a, b) => a + b, 0);
  const shares = [...byWhere]
    .map(([w, us]) => ({ where: w, us: us / o.requests, share: us / busy }))
    .sort((a, b) => b.us - a.us);
  return { busyUsPerRequest: busy / o.requests, shares };
}
