// Clock and formatting helpers that reproduce Go's output, because Vault's
// clients parse these strings and our tests compare them literally.

/** Nanoseconds since the Unix epoch, as a bigint. */
export type Nanos = bigint;

// Date.now() only has millisecond resolution; anchor a monotonic hrtime to it
// so timestamps carry nanoseconds like Vault's (protobuf Timestamp) do.
const anchorWall = BigInt(Date.now()) * 1_000_000n;
const anchorMono = process.hrtime.bigint();
let last: Nanos = 0n;

/** Current time in nanoseconds; strictly increasing so versions never tie. */
export function nowNanos(): Nanos {
  let t = anchorWall + (process.hrtime.bigint() - anchorMono);
  if (t <= last) t = last + 1n;
  last = t;
  return t;
}

/**
 * Go's `time.RFC3339Nano` in UTC: fractional seconds with trailing zeros
 * trimmed (and no fraction at all when it is zero), suffix "Z".
 */
export function rfc3339Nano(t: Nanos): string {
  const ms = Number(t / 1_000_000n);
  const frac = t % 1_000_000_000n;
  const base = new Date(ms).toISOString().slice(0, 19); // YYYY-MM-DDTHH:MM:SS
  if (frac === 0n) return `${base}Z`;
  const digits = frac.toString().padStart(9, "0").replace(/0+$/, "");
  return `${base}.${digits}Z`;
}

/** Vault's "unset time is an empty string" rule. */
export function timeOrEmpty(t: Nanos | null | undefined): string {
  return t === null || t === undefined ? "" : rfc3339Nano(t);
}

/** Go's `time.Duration.String()` for a whole number of seconds ("0s", "1h0m0s"). */
export function goDuration(seconds: number): string {
  if (seconds === 0) return "0s";
  const neg = seconds < 0;
  let s = Math.abs(Math.trunc(seconds));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  let out = "";
  if (h > 0) out += `${h}h${m}m`;
  else if (m > 0) out += `${m}m`;
  out += `${s}s`;
  return (neg ? "-" : "") + out;
}

/**
 * Vault's TypeDurationSecond input: an integer number of seconds, or a Go
 * duration string ("90s", "1h30m"). Returns null when it cannot be parsed.
 */
export function parseDurationSeconds(raw: unknown): number | null {
  if (typeof raw === "number" && Number.isFinite(raw)) return Math.trunc(raw);
  if (typeof raw !== "string") return null;
  const str = raw.trim();
  if (str === "") return 0;
  if (/^-?\d+$/.test(str)) return Number.parseInt(str, 10);
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let neg = false;
  let rest = str;
  if (rest.startsWith("-")) {
    neg = true;
    rest = rest.slice(1);
  }
  let total = 0;
  let consumed = 0;
  for (const match of rest.matchAll(re)) {
    if (match.index !== consumed) return null;
    total += Number(match[1]) * (unit[match[2] ?? "s"] ?? 1);
    consumed += match[0].length;
  }
  if (consumed !== rest.length || consumed === 0) return null;
  return Math.trunc(neg ? -total : total);
}
