// Fault injection for reliability tests: added latency and forced statuses
// on matching /v1 requests, optionally for the next N matches only.
// A base latency (`setLatency`, the local stack's `vaultMs` setting: the network
// between a Worker and Vault) delays every /v1 request through the same path; a
// fault's own latency adds to it, and clearing the fault keeps it.

export interface FaultSpec {
  latencyMs?: number;
  status?: number;
  pathPrefix?: string;
  methods?: string[];
  count?: number;
}

/** What to do to one request. */
export interface FaultAction {
  latencyMs: number;
  status: number | null;
}

export class Faults {
  private spec: FaultSpec | null = null;
  private remaining: number | null = null;
  private baseLatencyMs = 0;

  /** The delay every /v1 request gets (ms), fault or not. */
  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error("latency must be a non-negative number of ms");
    this.baseLatencyMs = ms;
  }

  /** Replace the active fault; validates so a typo fails loudly in the test. */
  set(spec: FaultSpec): void {
    if (spec.latencyMs !== undefined && (!Number.isFinite(spec.latencyMs) || spec.latencyMs < 0)) {
      throw new Error("latencyMs must be a non-negative number");
    }
    if (spec.status !== undefined && (!Number.isInteger(spec.status) || spec.status < 100 || spec.status > 599)) {
      throw new Error("status must be an HTTP status code");
    }
    if (spec.count !== undefined && (!Number.isInteger(spec.count) || spec.count < 0)) {
      throw new Error("count must be a non-negative integer");
    }
    if (spec.methods !== undefined && !Array.isArray(spec.methods)) throw new Error("methods must be an array");
    this.spec = { ...spec, methods: spec.methods?.map((m) => m.toUpperCase()) };
    this.remaining = spec.count ?? null;
  }

  clear(): void {
    this.spec = null;
    this.remaining = null;
  }

  /** Consume one use of the fault if this request matches it; else the base latency alone. */
  take(method: string, path: string): FaultAction | null {
    const base = this.baseLatencyMs > 0 ? { latencyMs: this.baseLatencyMs, status: null } : null;
    const s = this.spec;
    if (!s) return base;
    const prefix = s.pathPrefix ?? "/v1/";
    if (!path.startsWith(prefix)) return base;
    if (s.methods && !s.methods.includes(method.toUpperCase())) return base;
    if (this.remaining !== null) {
      if (this.remaining <= 0) return base;
      this.remaining -= 1;
    }
    return { latencyMs: this.baseLatencyMs + (s.latencyMs ?? 0), status: s.status ?? null };
  }
}

/**
 * The body Vault itself would send with a forced status, so clients parse
 * `errors[0]` exactly as they would in production.
 */
export function faultMessage(status: number, vaultPath: string): string[] {
  switch (status) {
    case 429:
      // vault/request_handling.go: quota errors name the request path.
      return [`request path "${vaultPath}": rate limit quota exceeded`];
    case 503:
      return ["Vault is sealed"];
    case 500:
      return ["internal error"];
    case 502:
      return ["upstream rate limited"];
    case 412:
      return ["required index state not present"];
    default:
      return [];
  }
}
