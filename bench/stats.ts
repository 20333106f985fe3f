/** Sample summaries and the printed table. Every figure is a measurement; nothing here asserts. */

export interface Summary {
  n: number;
  median: number;
  p95: number;
}

/** Nearest-rank quantile of an ascending array. */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return { n: sorted.length, median: quantile(sorted, 0.5), p95: quantile(sorted, 0.95) };
}

/** Microseconds as µs below 1 ms, else ms. */
export function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return "-";
  if (Math.abs(us) < 1000) return `${us.toFixed(0)} µs`;
  return `${(us / 1000).toFixed(2)} ms`;
}

export const fmtRatio = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}×` : "-");

export interface Row {
  name: string;
  n: string;
  median: string;
  p95: string;
  ratio: string;
  aim: string;
}

/** A row for a timed target; `base` (same run) gives the ratio of medians. */
export function timedRow(name: string, s: Summary, base?: Summary, aim = ""): Row {
  return {
    name,
    n: String(s.n),
    median: fmtUs(s.median),
    p95: fmtUs(s.p95),
    ratio: base ? fmtRatio(s.median / base.median) : "",
    aim,
  };
}

/** "met" / "MISSED" after an aim, so the table reads without arithmetic. */
export const verdict = (ok: boolean) => (ok ? "met" : "MISSED");

export function section(title: string): Row {
  return { name: `── ${title}`, n: "", median: "", p95: "", ratio: "", aim: "" };
}

export function printTable(
  rows: Row[],
  headers: Row = { name: "name", n: "n", median: "median", p95: "p95", ratio: "ratio", aim: "aim" },
): void {
  const cols = ["name", "n", "median", "p95", "ratio", "aim"] as const;
  const all = [headers, ...rows];
  const width = Object.fromEntries(
    cols.map((c) => [c, Math.max(...all.filter((r) => !r.name.startsWith("── ")).map((r) => r[c].length))]),
  );
  const line = (r: Row) =>
    cols
      .map((c, i) => (i === 0 || c === "aim" ? r[c].padEnd(width[c]!) : r[c].padStart(width[c]!)))
      .join("  ")
      .trimEnd();
  console.log(line(headers));
  console.log(cols.map((c) => "-".repeat(width[c]!)).join("  "));
  for (const r of rows) console.log(r.name.startsWith("── ") ? r.name : line(r));
}

/** A small seeded PRNG (mulberry32): the same data every run. */
export { prng as rng } from "../local-stack/source-faults";
