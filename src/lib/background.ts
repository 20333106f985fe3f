import { describeError } from "../errors/problem";
import type { Logger } from "./logger";

/**
 * Runs work off the response's path (the request's or Workflow's `waitUntil`): the caller does not
 * wait, the runtime keeps the isolate alive until it settles, and a failure is logged as `what`.
 */
export type Background = (what: string, task: Promise<unknown>) => void;

/** A {@link Background} over `waitUntil` that reports failures to `logger` (never their values). */
export function background(waitUntil: (p: Promise<unknown>) => void, logger: Logger): Background {
  return (what, task) =>
    waitUntil(
      task.catch((err: unknown) => logger.warn("background.failed", { task: what, reason: describeError(err) })),
    );
}
