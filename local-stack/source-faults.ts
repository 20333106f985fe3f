/**
 * Fault knobs of the content-source stand-ins (WordPress, Shopify), like the
 * Vault stand-in's: a forced status (429 with Retry-After, 5xx), added
 * latency, optionally for the next `count` matching requests only, and
 * optionally only after `after` matching requests have passed (to break a
 * sync mid-way).
 */
export interface SourceFaultSpec {
  status?: number;
  latencyMs?: number;
  /** Seconds sent in Retry-After with a 429/503. */
  retryAfter?: number;
  /** Only requests whose path (after the site prefix) starts with this. */
  pathPrefix?: string;
  count?: number;
  after?: number;
}

export class SourceFaults {
  private spec: SourceFaultSpec | null = null;
  private remaining: number | null = null;
  private skip = 0;

  set(spec: SourceFaultSpec): void {
    const int = (v: unknown, min: number) => v === undefined || (Number.isInteger(v) && (v as number) >= min);
    if (spec.status !== undefined && !(int(spec.status, 100) && spec.status < 600))
      throw new Error("status must be an HTTP status");
    if (!int(spec.latencyMs, 0) || !int(spec.retryAfter, 0) || !int(spec.count, 0) || !int(spec.after, 0)) {
      throw new Error("latencyMs, retryAfter, count and after must be non-negative integers");
    }
    this.spec = spec;
    this.remaining = spec.count ?? null;
    this.skip = spec.after ?? 0;
  }

  clear(): void {
    this.spec = null;
    this.remaining = null;
    this.skip = 0;
  }

  /** The fault for this request, consuming one use, or null. */
  take(path: string): SourceFaultSpec | null {
    const s = this.spec;
    if (!s || (s.pathPrefix && !path.startsWith(s.pathPrefix))) return null;
    if (this.skip > 0) {
      this.skip--;
      return null;
    }
    if (this.remaining !== null) {
      if (this.remaining <= 0) return null;
      this.remaining--;
    }
    return s;
  }
}

/** A deterministic PRNG (mulberry32), so seeded content is the same on every start. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  "router firmware reset wireless mesh signal channel password admin update backup cable modem port bridge guest network speed antenna band latency setup warranty battery charger display sensor thermostat schedule camera doorbell lock hub speaker light switch plug vacuum filter water pressure valve pump heater fan bracket mount screw hinge panel".split(
    " ",
  );

/** A paragraph of plausible product-support text. */
export function paragraph(rand: () => number, sentences = 4): string {
  const out: string[] = [];
  for (let s = 0; s < sentences; s++) {
    const n = 8 + Math.floor(rand() * 10);
    const words = Array.from({ length: n }, () => WORDS[Math.floor(rand() * WORDS.length)]!);
    words[0] = words[0]![0]!.toUpperCase() + words[0]!.slice(1);
    out.push(`${words.join(" ")}.`);
  }
  return out.join(" ");
}
