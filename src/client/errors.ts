import type { ErrorCode } from "../errors/problem";

/** Codes the client adds to the API's own: the gateway was unreachable, or answered something that is not a problem. */
export type BrainErrorCode = ErrorCode | "network_error" | "unexpected_response";

/** One entry of a `validation_failed` problem's `errors`. */
export interface FieldError {
  path: string;
  message: string;
}

/** RFC 9457 problem details as the gateway sends them. */
export interface ProblemDetails {
  type?: string;
  title: string;
  status: number;
  code: BrainErrorCode;
  detail?: string;
  requestId?: string;
  errors?: FieldError[];
}

/**
 * A failed call: the gateway's problem details, typed. Switch on `code`; show
 * `detail` to people. `status` is 0 when no HTTP status applies: the gateway
 * was unreachable (`network_error`) or a stream failed after its 200 (the
 * stream's `error` event code).
 */
export class BrainApiError extends Error implements ProblemDetails {
  override readonly name = "BrainApiError";
  readonly status: number;
  readonly code: BrainErrorCode;
  readonly title: string;
  readonly detail: string | undefined;
  readonly requestId: string | undefined;
  readonly errors: FieldError[] | undefined;
  readonly type: string | undefined;
  /** From `Retry-After` on 429 and 503 answers. */
  readonly retryAfterSeconds: number | undefined;

  constructor(problem: ProblemDetails, opts: { retryAfterSeconds?: number | undefined; cause?: unknown } = {}) {
    super(problem.detail ?? problem.title, { cause: opts.cause });
    this.status = problem.status;
    this.code = problem.code;
    this.title = problem.title;
    this.detail = problem.detail;
    this.requestId = problem.requestId;
    this.errors = problem.errors;
    this.type = problem.type;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }

  /** Reads a non-2xx response; anything that is not problem+json becomes `unexpected_response`. */
  static async fromResponse(res: Response): Promise<BrainApiError> {
    const retry = Number(res.headers.get("retry-after"));
    const retryAfterSeconds = Number.isFinite(retry) && retry > 0 ? retry : undefined;
    const requestId = res.headers.get("x-request-id") ?? undefined;
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    if (isProblem(body)) return new BrainApiError({ requestId, ...body, status: res.status }, { retryAfterSeconds });
    return new BrainApiError(
      {
        title: "Unexpected response",
        status: res.status,
        code: "unexpected_response",
        detail: `The gateway answered ${res.status} without problem details.`,
        requestId,
      },
      { retryAfterSeconds },
    );
  }

  /** The gateway could not be reached (DNS, TLS, offline, aborted). */
  static network(cause: unknown): BrainApiError {
    return new BrainApiError(
      { title: "Network error", status: 0, code: "network_error", detail: "The gateway could not be reached." },
      { cause },
    );
  }
}

function isProblem(v: unknown): v is ProblemDetails {
  if (!v || typeof v !== "object") return false;
  const p = v as Record<string, unknown>;
  return typeof p.code === "string" && typeof p.title === "string";
}

/** Type guard, also across bundles where `instanceof` may fail. */
export function isBrainApiError(err: unknown): err is BrainApiError {
  return err instanceof BrainApiError || (err instanceof Error && err.name === "BrainApiError" && "code" in err);
}
