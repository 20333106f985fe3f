import type { WorkflowStep, WorkflowStepConfig } from "cloudflare:workers";
import { NonRetryableError } from "cloudflare:workflows";
import { ApiError, errorCode } from "../../errors/problem";
import { ConnectorError } from "../types";

/**
 * The durable steps every Workflow here is made of (connector syncs, large
 * uploads): retried with exponential backoff (5 s, 10 s, 20 s, 40 s, 80 s)
 * before the instance fails; rate limits are not failures but waits (below).
 */
export const STEP_CONFIG: WorkflowStepConfig = {
  retries: { limit: 5, delay: "5 seconds", backoff: "exponential" },
  timeout: "5 minutes",
};
/** How many rate-limit waits one step may take before the instance gives up. */
export const MAX_WAITS = 20;

/** A step's answer when the service or the embedding provider asked us to wait. */
export interface Wait {
  waitSeconds: number;
}

/**
 * A durable step whose failures are classified inside it (see `classify`);
 * a Wait answer becomes `step.sleep` and the step is tried again under a new
 * name. Returns the step's result, which the engine stores (never a secret).
 */
export async function durableStep<T>(step: WorkflowStep, name: string, fn: () => Promise<T>): Promise<T> {
  for (let waits = 0; ; waits++) {
    const label = waits === 0 ? name : `${name} (retry ${waits} after a wait)`;
    const out = (await step.do(label, STEP_CONFIG, async () => {
      try {
        return { ok: (await fn()) ?? null } as never;
      } catch (err) {
        const c = classify(err);
        if (c instanceof Error) throw c;
        return c as never;
      }
    })) as { ok: T } | Wait;
    if ("ok" in out) return out.ok;
    if (waits >= MAX_WAITS) {
      throw new NonRetryableError(`rate_limited: still rate limited after ${MAX_WAITS} waits.`);
    }
    await step.sleep(`${name} wait ${waits + 1}`, out.waitSeconds * 1000);
  }
}

/**
 * What a failure inside a step becomes before it leaves the step (the engine
 * stores it): a Wait for rate limits, a NonRetryableError for what retrying
 * cannot fix, an Error to retry otherwise. Messages are `<code>: <text>`
 * (the engine keeps an error's message, not its name): a stable code and our
 * own text, never a service's body or a query's parameters.
 */
export function classify(err: unknown): Wait | Error {
  if (err instanceof NonRetryableError) return err;
  if (err instanceof ConnectorError) {
    switch (err.kind) {
      case "rate_limited":
        return { waitSeconds: err.retryAfterSeconds ?? 5 };
      case "unavailable":
        return named(new Error(err.message), "source_unavailable");
      case "auth":
        return fatal(err.message, "source_auth_failed");
      case "refused_url":
        return fatal(err.message, "source_url_refused");
      case "bad_response":
        return fatal(err.message, "source_bad_response");
    }
  }
  if (err instanceof ApiError) {
    if (err.code === "provider_unavailable") return { waitSeconds: Number(err.opts.headers?.["Retry-After"] ?? 5) };
    if (err.code === "provider_key_missing" || err.code === "provider_key_rejected" || err.status < 500) {
      return fatal(err.detail ?? err.message, err.code);
    }
  }
  const code = errorCode(err);
  const messages: Record<string, string> = {
    vault_unavailable: "The secret store is unavailable.",
    vault_auth_failed: "The secret store refused the gateway's credentials.",
    database_unavailable: "The database is unavailable.",
  };
  return named(new Error(messages[code] ?? "An unexpected error occurred."), code);
}

function named(err: Error, code: string): Error {
  err.message = `${code}: ${err.message}`;
  return err;
}

/**
 * A failure no retry can fix: the instance ends, its record names `code`. The engine tells a
 * NonRetryableError by its name, so the code goes in the message only (with the code as the name,
 * every fatal failure was retried 5 times with backoff).
 */
export const fatal = (message: string, code: string) => new NonRetryableError(`${code}: ${message}`);

const NON_RETRYABLE_WRAPPER = /^Step threw a NonRetryableError with message "([\s\S]*)"$/;

/** The recorded error (of a run, a job) from whatever ended it. */
export function failureOf(err: unknown, step: string): { step: string; code: string; message: string } {
  const raw = err instanceof Error ? err.message : "";
  // The engine passes a step's NonRetryableError on as "NonRetryableError: <message>", or wraps it.
  const text = (NON_RETRYABLE_WRAPPER.exec(raw)?.[1] ?? raw).replace(/^(NonRetryableError: )+/, "");
  const m = /^([a-z_]{3,40}): ([\s\S]*)$/.exec(text);
  if (!m) return { step, code: "internal_error", message: "An unexpected error occurred." };
  // The engine may put the error's name (our code) before the message again: keep one.
  const message = m[2]!.replace(new RegExp(`^(${m[1]}: )+`), "").slice(0, 500);
  return { step, code: m[1]!, message };
}
