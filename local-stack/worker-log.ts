/**
 * `npm run dev` shows the Worker's own log lines (the JSON lines of src/lib/logger.ts, already
 * redacted there) compactly: `12:01:02 INFO  request GET /ready 200 3ms req=…`. Any other line
 * (wrangler's own, a stack trace) passes through unchanged.
 */
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";

const LEVEL_COLOR: Record<string, string> = { info: "\x1b[36m", warn: "\x1b[33m", error: "\x1b[31m" };
const DIM = "\x1b[2m";
const RESET = "\x1b[0m";
/** Shown first, in this order, without their names: they read as a sentence (`GET /ready 200 3ms`). */
const LEADING = ["method", "path", "status", "ms"] as const;
/** wrangler's own line per request repeats the Worker's `request` line. */
const WRANGLER_REQUEST = /^\[wrangler:info\] [A-Z]+ \/\S* \d{3} /;
const OMITTED = new Set(["level", "event", "time", ...LEADING]);

const show = (v: unknown): string =>
  typeof v === "string" ? (/^[^\s"=]+$/.test(v) ? v : JSON.stringify(v)) : JSON.stringify(v);

/** One Worker log line made readable, or null when the line is not one of the Worker's JSON lines. */
export function formatWorkerLine(line: string, color = false): string | null {
  const start = line.indexOf("{");
  if (start < 0) return null;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line.slice(start));
  } catch {
    return null;
  }
  if (!entry || typeof entry !== "object" || typeof entry.event !== "string" || typeof entry.level !== "string") {
    return null;
  }
  const time = typeof entry.time === "string" ? entry.time.slice(11, 19) : "";
  const level = entry.level.toUpperCase().padEnd(5);
  const parts = [entry.event];
  for (const k of LEADING) if (entry[k] !== undefined) parts.push(k === "ms" ? `${show(entry[k])}ms` : show(entry[k]));
  for (const [k, v] of Object.entries(entry)) if (!OMITTED.has(k) && v !== undefined) parts.push(`${k}=${show(v)}`);
  if (!color) return `${time} ${level} ${parts.join(" ")}`;
  return `${DIM}${time}${RESET} ${LEVEL_COLOR[entry.level] ?? ""}${level}${RESET} ${parts.join(" ")}`;
}

/** Copies `from` to `to` line by line, formatting the Worker's JSON lines and dropping wrangler's request lines. */
export function prettyWorkerLogs(from: Readable, to: Writable & { isTTY?: boolean }): void {
  const color = !!to.isTTY && !process.env.NO_COLOR;
  createInterface({ input: from, crlfDelay: Number.POSITIVE_INFINITY }).on("line", (line) => {
    if (!WRANGLER_REQUEST.test(line)) to.write(`${formatWorkerLine(line, color) ?? line}\n`);
  });
}
