import { fingerprint, type Provider } from "./keys";

/** One authenticated call as the stand-in saw it; the key itself is never kept. */
export interface RecordedCall {
  provider: Provider;
  /** Request path as received, e.g. `/openai/v1/chat/completions`. */
  path: string;
  /** SHA-256 hex of the credential received. */
  keyFingerprint: string;
  /** `model` from the request body, when it was a string. */
  model: string | null;
  /** `temperature` and the output limit (`max_tokens`, or OpenAI's `max_completion_tokens`) from the body, when numbers. */
  temperature: number | null;
  maxTokens: number | null;
  /** ISO-8601 time the call arrived. */
  at: string;
  /** HTTP status the stand-in answered (200, or 400/429/503/529 for an authenticated call it refused). */
  status: number;
}

/** Shared state and settings the provider handlers need. */
export interface HandlerContext {
  /** Wait before a chat answer starts (ms): its time to first token. 0 = the first piece after tokenDelayMs. */
  firstTokenMs: number;
  /** Wait before each further streamed piece (ms). */
  tokenDelayMs: number;
  calls: CallLog;
}

/** In-memory log of authenticated calls, in arrival order. */
export class CallLog {
  private entries: RecordedCall[] = [];

  /** Record a call; only the credential's fingerprint is stored. */
  record(provider: Provider, path: string, credential: string, body: unknown, status: number): void {
    const fields = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    const text = (v: unknown) => (typeof v === "string" ? v : null);
    const num = (v: unknown) => (typeof v === "number" ? v : null);
    this.entries.push({
      provider,
      path,
      keyFingerprint: fingerprint(credential),
      model: text(fields.model),
      temperature: num(fields.temperature),
      maxTokens: num(fields.max_completion_tokens) ?? num(fields.max_tokens),
      at: new Date().toISOString(),
      status,
    });
  }

  /** A copy of the log, so callers cannot mutate it. */
  list(): RecordedCall[] {
    return this.entries.map((entry) => ({ ...entry }));
  }

  /** Forget every recorded call. */
  clear(): void {
    this.entries = [];
  }
}
