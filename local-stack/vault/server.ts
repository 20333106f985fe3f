// HTTP front of the Vault stand-in: the request pipeline of hashicorp/vault
// http/handler.go + http/logical.go (path checks, method → operation,
// sealed check, token check, routing) and the /__standin control endpoints.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import {
  APPROLE_ROLE_NAME,
  approleRoles,
  Auth,
  extractToken,
  permissionDenied,
  policyDenied,
  type AppRoleConfig,
} from "./auth";
import { Faults, faultMessage, type FaultSpec } from "./faults";
import { handleKv, kvKeyExists, toBool, type Operation } from "./kv-v2";
import { ORIGINAL_METHOD_HEADER, wrapSocket } from "./list-method";
import { errorReply, multiError, noContent, serialize, type Reply } from "./respond";
import { Store } from "./store";
import { parsePolicy, type Needed } from "./policy";
import { authMounts, findMount, HA_MODES, haRefusal, health, mounts, namespaces, policies, type HaMode } from "./sys";

export type { FaultSpec } from "./faults";

export interface VaultStandInOptions {
  port?: number;
  host?: string;
  rootToken: string;
  /** An AppRole role with fixed credentials, created at start (role name `stand-in`). */
  appRole?: AppRoleConfig;
  /** ACL policies (name → HCL) written at start, as `vault policy write` would. */
  policies?: Record<string, string>;
  dataFile?: string;
  mounts?: string[];
  /** Added to every /v1 request (ms): the network between the Worker and Vault. Faults add to it. */
  latencyMs?: number;
}

export interface VaultStandIn {
  url: string;
  port: number;
  close(): Promise<void>;
  seal(): void;
  unseal(): void;
  setFaults(f: FaultSpec): void;
  clearFaults(): void;
  /** Changes the latency every /v1 request gets (ms); kept across clearFaults and reset. */
  setLatency(ms: number): void;
  /** HA role reported by sys/health (and its effect on requests); legacy bare "permission denied" for bad tokens. */
  setMode(m: StandInMode): void;
}

export interface StandInMode {
  ha?: HaMode;
  legacyTokenErrors?: boolean;
}

// Vault's default max_request_size is 32 MiB.
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/** A request Vault rejects before routing (bad JSON, oversized body). */
class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Start a stand-in on `host:port` (a free port by default). */
export async function startVault(opts: VaultStandInOptions): Promise<VaultStandIn> {
  if (!opts.rootToken) throw new Error("startVault: rootToken is required");
  const store = new Store(opts.dataFile, opts.mounts ?? ["secret"]);
  const auth = new Auth(store, opts.rootToken);
  const faults = new Faults();
  faults.setLatency(opts.latencyMs ?? 0);
  let sealed = false;
  let ha: HaMode = "active";
  for (const [name, text] of Object.entries(opts.policies ?? {})) {
    parsePolicy(text); // a typo in a test's policy fails loudly at start
    store.state.policies[name] = text;
  }
  if (opts.appRole) {
    // The role `appRole` describes, with fixed credentials (dev and tests only).
    store.state.roles[APPROLE_ROLE_NAME] = {
      roleId: opts.appRole.roleId,
      secretIds: { [opts.appRole.secretId]: { accessor: "stand-in", createdTime: "0" } },
      tokenPolicies: [...(opts.appRole.policies ?? [])].sort(),
      tokenTtlSeconds: opts.appRole.tokenTtlSeconds ?? 3600,
      tokenMaxTtlSeconds: 0,
      tokenNoDefaultPolicy: false,
    };
  }
  store.save();

  const controls = {
    seal: () => {
      sealed = true;
    },
    unseal: () => {
      sealed = false;
    },
    setFaults: (f: FaultSpec) => faults.set(f),
    clearFaults: () => faults.clear(),
    setLatency: (ms: number) => faults.setLatency(ms),
    setMode: (m: StandInMode) => {
      if (m.ha !== undefined) {
        if (!HA_MODES.includes(m.ha)) throw new Error(`ha must be one of ${HA_MODES.join(", ")}`);
        ha = m.ha;
      }
      if (m.legacyTokenErrors !== undefined) auth.legacyTokenErrors = !!m.legacyTokenErrors;
    },
  };

  const seen: Array<{ method: string; path: string; namespace: string | null; vaultRequest: string | null }> = [];
  const header = (req: IncomingMessage, name: string): string | null => {
    const v = req.headers[name];
    return typeof v === "string" ? v : null;
  };

  const handle = async (req: IncomingMessage): Promise<Reply> => {
    // LIST arrives as GET plus a marker header (see list-method.ts).
    const method = req.headers[ORIGINAL_METHOD_HEADER] === "LIST" ? "LIST" : (req.method ?? "GET").toUpperCase();
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const rawPath = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q === -1 ? "" : rawUrl.slice(q + 1));

    if (rawPath.startsWith("/__standin/")) {
      return await control(rawPath.slice("/__standin/".length), method, req);
    }
    if (!rawPath.startsWith("/v1/")) return errorReply(404);
    // What clients sent, for tests asserting on headers (namespace), never tokens or bodies.
    seen.push({
      method,
      path: rawPath,
      namespace: header(req, "x-vault-namespace"),
      vaultRequest: header(req, "x-vault-request"),
    });
    if (seen.length > 200) seen.shift();

    // A "." or ".." segment must never resolve to another secret (raw or
    // percent-encoded). Vault answers ErrRelativePath with 400 (vault#14328).
    const decoded = decodePath(rawPath);
    if (decoded === null || hasDotSegment(rawPath) || hasDotSegment(decoded)) {
      return errorReply(400, [multiError(["relative paths not supported"])]);
    }
    const vaultPath = decoded.slice("/v1/".length);

    // Vault has the whole request before it is slow to answer: a write delayed past the client's
    // timeout still applies (a lost reply), so the body is read now, not after the fault's latency.
    const body = method === "POST" || method === "PUT" ? readJson(req) : undefined;
    body?.catch(() => {});
    const fault = faults.take(method, rawPath);
    if (fault) {
      if (fault.latencyMs > 0) await sleep(fault.latencyMs);
      if (fault.status === 307) {
        // http/handler.go respondStandby: a standby that cannot forward redirects to the active node, no body.
        return { status: 307, headers: { Location: `https://vault-active.stand-in.invalid:8200${rawUrl}` } };
      }
      if (fault.status !== null) return errorReply(fault.status, faultMessage(fault.status, vaultPath));
    }

    if (vaultPath === "sys/health" && (method === "GET" || method === "HEAD")) {
      return health({ sealed, ha }, query, method);
    }

    const op = operationFor(method, query);
    if (op === "bad-list") return errorReply(400);
    if (op === null) return errorReply(405);

    let data: Record<string, unknown>;
    if (op === "update") {
      data = await (body ?? readJson(req));
    } else {
      data = {};
      for (const [k, v] of query) if (!(k in data)) data[k] = v;
    }
    // Lists always address a folder (http/logical.go appends the slash).
    const path = op === "list" && !vaultPath.endsWith("/") ? `${vaultPath}/` : vaultPath;

    if (sealed) return errorReply(503, ["Vault is sealed"]);
    const haReply = haRefusal(ha, rawUrl);
    if (haReply) return haReply;

    const requestId = randomUUID();
    const ns = (header(req, "x-vault-namespace") ?? "").replace(/^\/+|\/+$/g, "");
    const space = store.space(ns);
    if (!space) return errorReply(404, [`no handler for route "${ns}/${path}". route entry not found.`]);
    const save = () => store.save();

    if (path === "auth/approle/login") {
      if (!space.approle) return errorReply(404, [`no handler for route "${path}". route entry not found.`]);
      if (op !== "update") return errorReply(405, [multiError(["unsupported operation"])]);
      return auth.login(space, ns, data, requestId);
    }

    const token = extractToken(req.headers);
    if (token === null) return permissionDenied();
    const principal = auth.authenticate(token);
    if (!principal) return auth.invalidToken();

    // checkToken: the ACL decides before the request reaches a backend. Writes are "create" or
    // "update" by the backend's existence check (KV v2: whether the key has metadata).
    const found = findMount(space, path);
    let needed: Needed = op;
    if (op === "update") needed = found && kvKeyExists(found.mount, found.rest) === false ? "create" : "update";
    const verdict = auth.allowed(principal, ns, path, needed);
    if (verdict === "wrong-namespace") return auth.invalidToken();
    if (!verdict) return policyDenied();

    if (path === "auth/token/lookup-self") {
      if (op !== "read" && op !== "update") return errorReply(405, [multiError(["unsupported operation"])]);
      return auth.lookupSelf(principal, requestId);
    }
    if (path === "auth/token/revoke-self") {
      if (op !== "update") return errorReply(405, [multiError(["unsupported operation"])]);
      return auth.revokeSelf(principal);
    }
    if (path === "auth/token/create") {
      if (op !== "update") return errorReply(405, [multiError(["unsupported operation"])]);
      return auth.createToken(principal, ns, data, requestId);
    }
    if ((path === "auth/approle/role/" || path.startsWith("auth/approle/role/")) && space.approle) {
      return approleRoles(space, save, op, path.slice("auth/approle/role".length), data, requestId);
    }
    if (path === "sys/auth" || path.startsWith("sys/auth/")) {
      return authMounts(space, save, op, path.slice("sys/auth".length), data, requestId);
    }
    if (path === "sys/mounts" || path.startsWith("sys/mounts/")) {
      return mounts(space, save, op, path.slice("sys/mounts".length), data, requestId);
    }
    if (path.startsWith("sys/policies/acl") || path.startsWith("sys/policy")) {
      return policies(space, save, op, path, data, requestId);
    }
    if (path === "sys/namespaces" || path.startsWith("sys/namespaces/")) {
      if (ns !== "") return errorReply(400, ["the Vault stand-in only nests namespaces one level under root"]);
      return namespaces(store, op, path.slice("sys/namespaces".length), data, requestId);
    }
    if (found) {
      return handleKv(found.mount, { op, path: found.rest, data, requestId, caller: auth.caller(principal) }, save);
    }
    return errorReply(404, [`no handler for route "${path}". route entry not found.`]);
  };

  const control = async (what: string, method: string, req: IncomingMessage): Promise<Reply> => {
    if (what === "seal" && method === "POST") controls.seal();
    else if (what === "unseal" && method === "POST") controls.unseal();
    else if (what === "faults" && method === "PUT") {
      const spec = await readJson(req);
      try {
        controls.setFaults(spec as FaultSpec);
      } catch (err) {
        return errorReply(400, [(err as Error).message]);
      }
    } else if (what === "faults" && method === "DELETE") controls.clearFaults();
    else if (what === "mode" && method === "PUT") {
      try {
        controls.setMode((await readJson(req)) as StandInMode);
      } catch (err) {
        return errorReply(400, [(err as Error).message]);
      }
    } else if (what === "reset" && method === "POST") {
      store.resetData();
      controls.unseal();
      controls.clearFaults();
      controls.setMode({ ha: "active", legacyTokenErrors: false });
    } else if (what === "revoke-tokens" && method === "POST") auth.revokeIssuedTokens();
    else if (what === "requests" && method === "GET") return { status: 200, body: { requests: seen } };
    else if (what === "requests" && method === "DELETE") seen.length = 0;
    else return errorReply(404, [`unknown stand-in control ${method} /__standin/${what}`]);
    return noContent();
  };

  const server: Server = createServer((req, res) => {
    handle(req)
      .catch((err: unknown) => {
        if (err instanceof BadRequest) return errorReply(err.status, [err.message]);
        console.error("vault stand-in: unexpected error", err);
        return errorReply(500, ["internal error"]);
      })
      .then((reply) => send(res, reply));
  });

  // Node's HTTP server only parses, it does not listen: the TCP listener hands
  // it sockets wrapped so that the LIST verb gets through its parser.
  const sockets = new Set<Socket>();
  const listener = createNetServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    server.emit("connection", wrapSocket(socket));
  });
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(opts.port ?? 0, host, () => {
      listener.off("error", reject);
      resolve();
    });
  });
  const address = listener.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        listener.close((err) => (err ? reject(err) : resolve()));
        for (const socket of sockets) socket.destroy();
      }),
    ...controls,
  };
}

/** Write a reply; every response, success or not, carries no-store. */
function send(res: ServerResponse, reply: Reply): void {
  res.setHeader("Cache-Control", "no-store");
  res.setHeader("Content-Type", "application/json");
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  if (reply.body === undefined) {
    res.statusCode = reply.status;
    res.end();
    return;
  }
  const text = serialize(reply.body);
  res.statusCode = reply.status;
  res.setHeader("Content-Length", Buffer.byteLength(text));
  res.end(text);
}

/** http/logical.go buildLogicalRequest: method (and ?list=) to operation. */
function operationFor(method: string, query: URLSearchParams): Operation | "bad-list" | null {
  switch (method) {
    case "GET": {
      const list = query.get("list");
      if (list === null || list === "") return "read";
      // strconv.ParseBool; anything else is a 400.
      const b = toBool(list);
      if (b === null) return "bad-list";
      return b ? "list" : "read";
    }
    case "LIST":
      return "list";
    case "POST":
    case "PUT":
      return "update";
    case "DELETE":
      return "delete";
    default:
      return null;
  }
}

function decodePath(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

function hasDotSegment(path: string): boolean {
  return path.split("/").some((seg) => seg === "." || seg === "..");
}

/** Body as a JSON object; an empty body is no data, like Vault's io.EOF case. */
async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequest("http: request body too large", 413);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new BadRequest(`failed to parse JSON input: ${(err as Error).message}`);
  }
  if (parsed === null) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new BadRequest(
      "failed to parse JSON input: json: cannot unmarshal into Go value of type map[string]interface {}",
    );
  }
  return parsed as Record<string, unknown>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
