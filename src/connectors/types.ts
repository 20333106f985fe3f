import type { z } from "zod";
import type { ReachPolicy } from "./http";

/** Why a call to a connected service failed; the message is ours and safe for the wire (never the service's body). */
export type ConnectorFailure =
  | "auth" // the service refused the credentials
  | "rate_limited" // 429 / throttled: wait `retryAfterSeconds`, then try again
  | "unavailable" // network failure, timeout, 5xx: retry with backoff
  | "bad_response" // an answer this connector cannot read (not that service, or a different version)
  | "refused_url"; // the URL breaks the reach policy (SSRF rules)

export class ConnectorError extends Error {
  override readonly name = "ConnectorError";
  constructor(
    readonly kind: ConnectorFailure,
    message: string,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** One item of source content, as it becomes a knowledge document. */
export interface SourceItem {
  /** Stable within the connector, e.g. `post:42`; the document's key with the connector id. */
  externalId: string;
  title: string;
  /** Plain text (markup removed). */
  text: string;
  /** Where a reader finds it; chat cites it. */
  url: string | null;
  /** The source's modification time in its own format, compared only with values of the same connector type. */
  modified: string;
}

/** What a connector call needs: the connector's settings and credentials, and how far it may reach. */
export interface SourceContext<S, C> {
  settings: S;
  credentials: C;
  policy: ReachPolicy;
  fetch?: typeof fetch;
}

/**
 * A connector type: one folder under src/connectors/, registered in registry.ts.
 * A sync walks each stream twice: every id (to find items gone at the source)
 * and the items changed since the last successful run (to embed them).
 */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds types with different settings; each type's own code is fully typed.
export interface ConnectorType<S = any, C = any> {
  readonly type: string;
  readonly label: string;
  /** Non-secret settings, stored in connector_configs. */
  readonly settings: z.ZodType<S>;
  /** Secret fields, stored in Vault; write-only. */
  readonly credentials: z.ZodType<C>;
  /** The settings' base URL (reach policy checks, display), and the settings field holding it. */
  siteUrl(settings: S): string;
  readonly urlField: string;
  /** Masked hints of the credential fields, safe to show. */
  hints(credentials: C): Record<string, string>;
  /** One cheap call that proves the URL and credentials work; throws ConnectorError saying what failed. */
  check(ctx: SourceContext<S, C>): Promise<void>;
  /** The kinds of content synced, e.g. posts and pages. */
  streams(settings: S): string[];
  /** One page of every live item id of a stream; `page` null for the first. */
  listIds(
    ctx: SourceContext<S, C>,
    stream: string,
    page: string | null,
  ): Promise<{ ids: string[]; next: string | null }>;
  /** One page of items modified since `since` (null: all); `page` null for the first. */
  listChanged(
    ctx: SourceContext<S, C>,
    stream: string,
    since: string | null,
    page: string | null,
  ): Promise<{ items: SourceItem[]; next: string | null }>;
}

/** A hint of a secret: its last four characters, as for provider keys. */
export const secretHint = (s: string) => `****${s.replace(/\s+/g, "").slice(-4)}`;
