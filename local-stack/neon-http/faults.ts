/**
 * Fault injection for reliability tests, like the Vault stand-in's: added
 * latency, a proxy that accepts a request and never answers, a 5xx from the
 * proxy, or the proxy's "query cancelled" answer, optionally for the next N
 * requests only. Controlled over HTTP at `/__standin/faults` (PUT a spec,
 * DELETE to clear), since the Worker tests in workerd can only fetch.
 *
 * A base latency (`setLatency`, the local stack's `neonMs` setting: the network
 * between a Worker and Neon) delays every request through the same path; a
 * fault's own `latencyMs` adds to it, and clearing the fault keeps it.
 */
import { errorBody } from "./protocol.js";

export interface NeonFaultSpec {
  /** Added before the request is handled. */
  latencyMs?: number;
  /** Plus a random 0…jitterMs, so that concurrent requests finish out of order. */
  jitterMs?: number;
  /** Accept the request, then never answer (until the fault is cleared or the server closes). */
  hang?: boolean;
  /** Answer this 5xx status with the proxy's error body instead of running the query. */
  status?: number;
  /** Answer as the proxy does when it cancels a query (400, SQLSTATE 08P01, two keys only). */
  cancelled?: boolean;
  /** Only requests with a statement whose SQL text contains this string (e.g. a table name). */
  match?: string;
  /** Let this many matching requests through first. */
  after?: number;
  /** Then only the next `count` matching requests. */
  count?: number;
}

/** What to do to one request. */
export type FaultAction =
  | { kind: "delay"; latencyMs: number }
  | { kind: "hang"; latencyMs: number }
  | { kind: "answer"; latencyMs: number; status: number; body: unknown };

/**
 * `sql_over_http.rs` answers a cancelled query with exactly these two keys,
 * not the 17 of other errors.
 */
export const CANCELLED_BODY = { message: "Query cancelled, connection was terminated", code: "08P01" } as const;

export class NeonFaults {
  #spec: NeonFaultSpec | null = null;
  #remaining: number | null = null;
  #skip = 0;
  #baseLatencyMs = 0;

  /** The delay every request gets (ms), fault or not. */
  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new Error("latency must be a non-negative number of ms");
    this.#baseLatencyMs = ms;
  }

  get baseLatencyMs(): number {
    return this.#baseLatencyMs;
  }

  /** Replaces the active fault; validates so that a typo fails loudly in the test. */
  set(spec: NeonFaultSpec): void {
    if (typeof spec !== "object" || spec === null) throw new Error("the fault must be an object");
    const known = new Set(["latencyMs", "jitterMs", "hang", "status", "cancelled", "match", "after", "count"]);
    const unknown = Object.keys(spec).find((k) => !known.has(k));
    if (unknown) throw new Error(`unknown fault field ${unknown}`);
    for (const k of ["latencyMs", "jitterMs"] as const) {
      const n = spec[k];
      if (n !== undefined && (!Number.isFinite(n) || n < 0)) throw new Error(`${k} must be a non-negative number`);
    }
    if (spec.status !== undefined && (!Number.isInteger(spec.status) || spec.status < 500 || spec.status > 599)) {
      throw new Error("status must be a 5xx status (a Postgres error is a 400 with its SQLSTATE)");
    }
    for (const k of ["after", "count"] as const) {
      const n = spec[k];
      if (n !== undefined && (!Number.isInteger(n) || n < 0)) throw new Error(`${k} must be a non-negative integer`);
    }
    if (spec.match !== undefined && (typeof spec.match !== "string" || spec.match === "")) {
      throw new Error("match must be a non-empty string");
    }
    if ([spec.hang, spec.status !== undefined, spec.cancelled].filter(Boolean).length > 1) {
      throw new Error("choose one of hang, status, cancelled");
    }
    this.#spec = { ...spec };
    this.#remaining = spec.count ?? null;
    this.#skip = spec.after ?? 0;
  }

  clear(): void {
    this.#spec = null;
    this.#remaining = null;
    this.#skip = 0;
  }

  /** Consumes one use of the fault if this request (its statements) matches it; else the base latency alone. */
  take(statements: ReadonlyArray<{ query: string }>): FaultAction | null {
    const base: FaultAction | null = this.#baseLatencyMs > 0 ? { kind: "delay", latencyMs: this.#baseLatencyMs } : null;
    const s = this.#spec;
    if (!s) return base;
    const match = s.match;
    if (match !== undefined && !statements.some((q) => q.query.includes(match))) return base;
    if (this.#skip > 0) {
      this.#skip -= 1;
      return base;
    }
    if (this.#remaining !== null) {
      if (this.#remaining <= 0) return base;
      this.#remaining -= 1;
    }
    const latencyMs = this.#baseLatencyMs + (s.latencyMs ?? 0) + Math.random() * (s.jitterMs ?? 0);
    if (s.hang) return { kind: "hang", latencyMs };
    if (s.cancelled) return { kind: "answer", latencyMs, status: 400, body: CANCELLED_BODY };
    if (s.status !== undefined) {
      // A compute the proxy cannot reach is a 500 from `ConnectCompute`; other 5xx come from in front of it.
      return { kind: "answer", latencyMs, status: s.status, body: errorBody("Couldn't connect to compute node") };
    }
    return { kind: "delay", latencyMs };
  }
}
