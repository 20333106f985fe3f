/**
 * The hottest lines of a CPU profile saved by the bench (BENCH_CPUPROFILE=<file>), mapped through
 * the bundle's source map: self time per original line, and time including callees per line of src/.
 *
 *   npx tsx bench/profile-top.ts <profile.json> <bundle.js.map> [requests] [top]
 */
import { readFileSync } from "node:fs";
import { SourceMap } from "node:module";

const [profilePath, mapPath, requestsArg = "1", topArg = "30"] = process.argv.slice(2);
if (!profilePath || !mapPath) throw new Error("usage: profile-top.ts <profile.json> <bundle.js.map> [requests] [top]");
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
const profile = JSON.parse(readFileSync(profilePath, "utf8")) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
const map = new SourceMap(JSON.parse(readFileSync(mapPath, "utf8")));
const requests = Number(requestsArg);
const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const label = (n: Node): string => {
  const f = n.callFrame;
  if (!f.url.startsWith("script-")) return `${f.functionName || "(anonymous)"} [${f.url || "native"}]`;
  const e = map.findEntry(f.lineNumber, f.columnNumber) as {
    originalSource?: string;
    originalLine?: number;
    name?: string;
  };
  if (!e.originalSource) return `${f.functionName} (bundle, unmapped)`;
  const src = e.originalSource.replace(/^.*node_modules\//, "").replace(/^.*?(src\/)/, "$1");
  return `${src}:${(e.originalLine ?? 0) + 1} ${f.functionName}`;
};
const self = new Map<string, number>();
const total = new Map<string, number>();
let busy = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const n = nodes.get(id)!;
  if (n.callFrame.functionName === "(idle)") return;
  busy += dt;
  const l = label(n);
  self.set(l, (self.get(l) ?? 0) + dt);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const lab = label(nodes.get(cur)!);
    if (seen.has(lab)) continue;
    seen.add(lab);
    total.set(lab, (total.get(lab) ?? 0) + dt);
  }
});
const top = Number(topArg);
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title} (µs per request; busy ${(busy / requests).toFixed(0)} µs)`);
  for (const [l, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`${(us / requests).toFixed(1).padStart(9)}  ${l}`);
};
show("self time", self);
show("total time (with callees)", total);
