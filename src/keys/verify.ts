import type { Config } from "../config";
import { isProviderId } from "../llm/catalog";
import type { FetchFn } from "../llm/http";
import { chatProvider, type StoredCredential } from "../llm/providers";
import type { KeyCheck } from "../llm/types";

/** A key check's outcome and when it was made: what a key's record keeps. */
export interface VerifyResult extends KeyCheck {
  checkedAt: Date;
}

/**
 * Asks `service`'s provider whether the credential works (its client's `verify`: one call that
 * costs no tokens). A service the gateway does not call has no known check: `unknown`, no call made.
 */
export async function verifyCredential(
  config: Config,
  service: string,
  credential: StoredCredential,
  fetchFn?: FetchFn,
): Promise<VerifyResult> {
  if (!isProviderId(service))
    return {
      verification: "unknown",
      status: null,
      reason: `The gateway has no check for ${service} keys.`,
      checkedAt: new Date(),
    };
  const check = await chatProvider(config, service, credential, fetchFn).verify();
  return { ...check, checkedAt: new Date() };
}
