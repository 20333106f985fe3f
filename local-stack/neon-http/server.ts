/**
 * A local stand-in for Neon's SQL-over-HTTP endpoint (`POST /sql`), so the
 * real `@neondatabase/serverless` client and drizzle's `neon-http` driver can
 * run against PGlite (with pgvector) or a local Postgres. Wire behaviour is
 * described in /work/shared/specs/neon-sql-over-http.md.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { SqlBackend } from "./backend.js";
import { Executor } from "./executor.js";
import { NeonFaults, type NeonFaultSpec } from "./faults.js";
import { createPgBackend } from "./pg-backend.js";
import { createPgliteBackend } from "./pglite-backend.js";
import {
  MAX_REQUEST_BYTES,
  PostgresError,
  ProxyError,
  checkConnectionString,
  type Credentials,
  errorBody,
  parsePayload,
  parseRequestOptions,
  type RequestOptions,
} from "./protocol.js";

export interface NeonHttpOptions {
  port?: number; // 0 or undefined = a free port
  host?: string; // default "127.0.0.1"
  dataDir?: string; // PGlite data folder to persist in; undefined = in memory
  postgresUrl?: string; // when given, front this real Postgres (node-postgres `pg`) instead of PGlite
  /** When given, only this role, password and database are accepted, as Neon does for an endpoint. */
  credentials?: Credentials;
  /** Added to every SQL request (ms): the network between the Worker and Neon. Faults add to it. */
  latencyMs?: number;
}

export interface NeonHttpServer {
  url: string; // e.g. "http://127.0.0.1:54321/sql" — what neonConfig.fetchEndpoint gets
  port: number;
  /** Changes the latency every SQL request gets (ms). */
  setLatency(ms: number): void;
  close(): Promise<void>; // clean shutdown: server closed, PGlite closed
}

/** Starts the stand-in; resolves once the database is ready and the port is bound. */
export async function startNeonHttp(opts: NeonHttpOptions = {}): Promise<NeonHttpServer> {
  const backend = opts.postgresUrl ? await createPgBackend(opts.postgresUrl) : await createPgliteBackend(opts.dataDir);
  const executor = new Executor();
  const inFlight = new Set<Promise<unknown>>();
  const run = <T>(task: Promise<T>): Promise<T> => {
    inFlight.add(task);
    void task.catch(() => undefined).finally(() => inFlight.delete(task));
    return task;
  };
  const faults = new Faults();
  faults.setLatency(opts.latencyMs ?? 0);

  const server = createServer((req, res) => {
    handle(req, res, executor, (fn) => run(backend.withSession(fn)), faults, opts.credentials).catch((err: unknown) => {
      // Only reachable on a bug or a dead socket; answer if we still can.
      if (!res.headersSent) sendJson(res, 500, errorBody(`internal error: ${(err as Error).message}`));
      else res.destroy();
    });
  });

  const host = opts.host ?? "127.0.0.1";
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, host, () => resolve());
    });
  } catch (err) {
    await backend.close();
    throw err;
  }
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}/sql`,
    port,
    setLatency: (ms) => faults.setLatency(ms),
    close: () => (closing ??= shutdown(server, inFlight, backend)),
  };
}

async function shutdown(
  server: ReturnType<typeof createServer>,
  inFlight: Set<Promise<unknown>>,
  backend: SqlBackend,
): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Let requests already running finish before the database goes away.
  await Promise.allSettled([...inFlight]);
  server.closeAllConnections();
  await closed;
  await backend.close();
}

/** The active fault and the requests it holds unanswered. */
class Faults extends NeonFaults {
  readonly #held = new Set<ServerResponse>();

  /** Keeps `res` unanswered until the fault is cleared (then the connection is cut) or the client goes away. */
  hold(res: ServerResponse): void {
    this.#held.add(res);
    res.once("close", () => this.#held.delete(res));
  }

  override clear(): void {
    super.clear();
    for (const res of this.#held) res.destroy();
    this.#held.clear();
  }
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  executor: Executor,
  withSession: SqlBackend["withSession"],
  faults: Faults,
  credentials: Credentials | undefined,
): Promise<void> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (path.startsWith("/__standin/")) {
    await control(path.slice("/__standin/".length), req, res, faults);
    return;
  }
  // The proxy adds a request id to every response it builds.
  res.setHeader("Neon-Request-Id", randomUUID());

  if (path === "/sql" && req.method === "OPTIONS") {
    res.writeHead(200, {
      Allow: "OPTIONS, POST",
      "Access-Control-Allow-Origin": "*",
      "Access-Control-Allow-Headers":
        "Authorization, Neon-Connection-String, Neon-Raw-Text-Output, Neon-Array-Mode, Neon-Pool-Opt-In, Neon-Batch-Read-Only, Neon-Batch-Isolation-Level",
      "Access-Control-Max-Age": "86400",
    });
    res.end();
    return;
  }
  if (path !== "/sql" || req.method !== "POST") {
    await drain(req);
    sendJson(res, 400, "query is not supported");
    return;
  }

  res.setHeader("Access-Control-Allow-Origin", "*");
  const header = (name: string): string | undefined => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  try {
    // Same order as the proxy: connection info, headers, body, then the query.
    checkConnectionString(header, credentials);
    const opts = parseRequestOptions(header);
    const payload = parsePayload(await readBody(req, MAX_REQUEST_BYTES));
    const fault = faults.take(payload.kind === "single" ? [payload.query] : payload.queries);
    if (fault) {
      if (fault.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, fault.latencyMs));
      if (fault.kind === "hang") return faults.hold(res);
      if (fault.kind === "answer") return sendJson(res, fault.status, fault.body);
    }
    const body = await withSession((session) => executor.execute(session, payload, opts));
    if (payload.kind === "batch") echoBatchHeaders(res, opts);
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(body);
  } catch (err) {
    await drain(req);
    if (err instanceof PostgresError) sendJson(res, 400, errorBody(err.message, err.fields));
    else if (err instanceof ProxyError) sendJson(res, err.status, errorBody(err.message));
    else throw err;
  }
}

/** The stand-in's own controls (not part of Neon's API): `PUT|DELETE /__standin/faults`. */
async function control(what: string, req: IncomingMessage, res: ServerResponse, faults: Faults): Promise<void> {
  if (what === "faults" && req.method === "PUT") {
    try {
      faults.set(JSON.parse(await readBody(req, 64 * 1024)) as NeonFaultSpec);
    } catch (err) {
      sendJson(res, 400, { error: (err as Error).message });
      return;
    }
  } else if (what === "faults" && req.method === "DELETE") {
    await drain(req);
    faults.clear();
  } else {
    await drain(req);
    sendJson(res, 404, { error: `unknown stand-in control ${req.method} /__standin/${what}` });
    return;
  }
  res.writeHead(204);
  res.end();
}

/** The proxy echoes only what it applied: "true" flags and a valid level. */
function echoBatchHeaders(res: ServerResponse, opts: RequestOptions): void {
  if (opts.readOnly) res.setHeader("Neon-Batch-Read-Only", "true");
  if (opts.deferrable) res.setHeader("Neon-Batch-Deferrable", "true");
  if (opts.isolationLevel) res.setHeader("Neon-Batch-Isolation-Level", opts.isolationLevel);
}

/**
 * Reads the body, failing with 413 past `limit` bytes (as `read_body_with_limit`).
 * Past the limit the rest is read and dropped rather than the stream destroyed,
 * so the client gets the 413 instead of a connection reset.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.once("error", reject);
    req.once("end", () => {
      if (size > limit) reject(new ProxyError(413, `request is too large (max is ${limit} bytes)`));
      else resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}

/**
 * Consumes what is left of a body before answering, so a client still
 * uploading (e.g. an oversized body) reads our answer instead of a reset.
 */
async function drain(req: IncomingMessage): Promise<void> {
  if (req.readableEnded || req.destroyed) return;
  req.resume();
  await new Promise<void>((resolve) => {
    req.once("end", resolve);
    req.once("close", resolve);
    req.once("error", () => resolve());
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}
