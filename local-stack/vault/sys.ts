// sys/health and sys/mounts, after hashicorp/vault http/sys_health.go,
// vault/logical_system.go and api-docs/system/{health,mounts}.mdx.
import { randomUUID } from "node:crypto";
import { toBool } from "./kv-v2";
import { DEFAULT_POLICY as DEFAULT_POLICY_TEXT, parsePolicy, PolicyError } from "./policy";
import { envelope, errorReply, multiError, noContent, type Reply } from "./respond";
import { newKvMount, newSpace, type MountRecord, type Space, type Store } from "./store";

/** The Vault release the stand-in claims to be (health `version`). */
export const STAND_IN_VERSION = "1.21.0";
const CLUSTER_NAME = "vault-cluster-stand-in";
const CLUSTER_ID = randomUUID();

// Mounts every Vault has; they cannot be replaced by a KV engine.
const BUILTIN_MOUNTS: Record<string, Record<string, unknown>> = {
  "cubbyhole/": builtinMount("cubbyhole", "per-token private secret storage", true),
  "identity/": builtinMount("identity", "identity store", false),
  "sys/": builtinMount("system", "system endpoints used for control, policy and debugging", false),
};

function builtinMount(type: string, description: string, local: boolean): Record<string, unknown> {
  return {
    accessor: `${type}_${randomUUID().slice(0, 8)}`,
    config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 },
    description,
    external_entropy_access: false,
    local,
    options: null,
    plugin_version: "",
    running_plugin_version: `v${STAND_IN_VERSION}+builtin.vault`,
    running_sha256: "",
    seal_wrap: false,
    type,
    uuid: randomUUID(),
  };
}

function kvMountInfo(m: MountRecord): Record<string, unknown> {
  return {
    accessor: m.accessor,
    config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 },
    description: m.description,
    external_entropy_access: false,
    local: false,
    options: { version: m.options.version },
    plugin_version: "",
    running_plugin_version: "v0.25.0+builtin",
    running_sha256: "",
    seal_wrap: false,
    type: m.type,
    uuid: m.uuid,
  };
}

/**
 * The node's HA role. `standby` and `perfstandby` serve requests (forwarded to the active node, or
 * reads served locally); `standby-unhealthy` cannot reach the active node and redirects (307);
 * `dr-secondary` refuses the API; `removed` was removed from the raft cluster.
 */
export const HA_MODES = ["active", "standby", "perfstandby", "standby-unhealthy", "dr-secondary", "removed"] as const;
export type HaMode = (typeof HA_MODES)[number];

/** What a non-active node answers to an API request, or null when it serves it. */
export function haRefusal(ha: HaMode, rawUrl: string): Reply | null {
  switch (ha) {
    case "standby-unhealthy":
      // http/handler.go: forwarding failed, so respondStandby redirects to the active node.
      return { status: 307, headers: { Location: `https://vault-active.stand-in.invalid:8200${rawUrl}` } };
    case "dr-secondary":
      return errorReply(400, ["path disabled in replication DR secondary mode"]);
    case "removed":
      return errorReply(503, ["node is removed from the HA cluster"]);
    default:
      return null;
  }
}

/**
 * GET|HEAD sys/health (http/sys_health.go): no token needed, status chosen by state — 200 active,
 * 429 standby, 473 performance standby, 474 standby without a connection to the active node,
 * 472 DR secondary, 503 sealed, 530 removed — with the documented `standbyok`, `perfstandbyok`
 * and `*code` overrides; HEAD gets the status without a body.
 */
export function health(state: { sealed: boolean; ha: HaMode }, query: URLSearchParams, method: string): Reply {
  const code = (name: string, dflt: number) => {
    const v = query.get(name);
    const n = v === null ? Number.NaN : Number.parseInt(v, 10);
    return Number.isInteger(n) ? n : dflt;
  };
  const flag = (name: string): boolean | null => {
    const v = query.get(name);
    if (v === null) return false;
    return toBool(v === "" ? "true" : v);
  };
  const standbyOk = flag("standbyok");
  const perfStandbyOk = flag("perfstandbyok");
  if (standbyOk === null || perfStandbyOk === null) return { status: 400, body: { errors: [] } };
  const { sealed, ha } = state;
  const standby = ha === "standby" || ha === "perfstandby" || ha === "standby-unhealthy";
  let status = code("activecode", 200);
  if (ha === "removed") status = code("removedcode", 530);
  else if (sealed) status = code("sealedcode", 503);
  else if (ha === "dr-secondary") status = code("drsecondarycode", 472);
  else if (ha === "perfstandby") status = perfStandbyOk ? status : code("performancestandbycode", 473);
  else if (ha === "standby-unhealthy") status = code("haunhealthycode", 474);
  else if (ha === "standby") status = standbyOk ? status : code("standbycode", 429);
  const nowSecs = Math.floor(Date.now() / 1000);
  // A sealed node cannot know its cluster or replication state.
  const body: Record<string, unknown> = sealed
    ? {
        initialized: true,
        sealed: true,
        standby: true,
        performance_standby: false,
        replication_performance_mode: "unknown",
        replication_dr_mode: "unknown",
        server_time_utc: nowSecs,
        version: STAND_IN_VERSION,
        enterprise: false,
      }
    : {
        initialized: true,
        sealed: false,
        standby,
        performance_standby: ha === "perfstandby",
        replication_performance_mode: "disabled",
        replication_dr_mode: ha === "dr-secondary" ? "secondary" : "disabled",
        server_time_utc: nowSecs,
        version: STAND_IN_VERSION,
        enterprise: false,
        cluster_name: CLUSTER_NAME,
        cluster_id: CLUSTER_ID,
        ...(standby ? { ha_connection_healthy: ha !== "standby-unhealthy" } : {}),
        ...(ha === "removed" ? { removed_from_cluster: true } : {}),
      };
  return method === "HEAD" ? { status } : { status, body };
}

/** Everything under sys/mounts. `rest` is the part after "sys/mounts". */
export function mounts(
  space: Space,
  save: () => void,
  op: string,
  rest: string,
  data: Record<string, unknown>,
  requestId: string,
): Reply {
  const path = rest.replace(/^\/+/, "").replace(/\/+$/, "");
  const state = space;
  if (path === "") {
    if (op !== "read") return errorReply(405, ["1 error occurred:\n\t* unsupported operation\n\n"]);
    const all: Record<string, unknown> = { ...BUILTIN_MOUNTS };
    for (const [name, m] of Object.entries(state.mounts)) all[`${name}/`] = kvMountInfo(m);
    return envelope({ requestId, mountType: "system", data: all, sysInject: true });
  }
  if (op === "read") {
    const m = state.mounts[path];
    const info = m ? kvMountInfo(m) : BUILTIN_MOUNTS[`${path}/`];
    if (!info) return errorReply(400, [`No secret engine mount at ${path}/`]);
    return envelope({ requestId, mountType: "system", data: info, sysInject: true });
  }
  if (op === "delete") {
    if (BUILTIN_MOUNTS[`${path}/`]) return errorReply(400, [`cannot unmount "${path}/"`]);
    if (state.mounts[path]) {
      delete state.mounts[path];
      save();
    }
    return noContent();
  }
  if (op !== "update") return errorReply(405, ["1 error occurred:\n\t* unsupported operation\n\n"]);

  const type = typeof data.type === "string" ? data.type : "";
  if (type === "") return errorReply(400, ["backend type must be specified as a string"]);
  const options = (data.options && typeof data.options === "object" ? data.options : {}) as Record<string, unknown>;
  const isKv2 = type === "kv-v2" || (type === "kv" && String(options.version ?? "") === "2");
  if (type !== "kv" && type !== "kv-v2") return errorReply(400, [`plugin not found in the catalog: ${type}`]);
  if (!isKv2) {
    // Deliberate gap: KV v1 is not modelled, and silently mounting v2 would lie.
    return errorReply(400, [
      'the Vault stand-in only implements KV version 2: send "options": {"version": "2"} or type "kv-v2"',
    ]);
  }
  const taken = [...Object.keys(BUILTIN_MOUNTS).map((m) => m.slice(0, -1)), "auth", ...Object.keys(state.mounts)].find(
    (m) => path === m || path.startsWith(`${m}/`) || m.startsWith(`${path}/`),
  );
  if (taken !== undefined) return errorReply(400, [`path is already in use at ${taken}/`]);
  const description = typeof data.description === "string" ? data.description : "";
  state.mounts[path] = newKvMount(description);
  save();
  return noContent();
}

/** Longest mounted KV prefix of `path` (mount names carry no trailing "/"). */
export function findMount(space: Space, path: string): { name: string; mount: MountRecord; rest: string } | null {
  let best: string | null = null;
  for (const name of Object.keys(space.mounts)) {
    if ((path === name || path.startsWith(`${name}/`)) && (best === null || name.length > best.length)) best = name;
  }
  if (best === null) return null;
  const mount = space.mounts[best];
  if (!mount) return null;
  return { name: best, mount, rest: path.slice(best.length + 1) };
}

/** sys/auth[/approle]: the stand-in has the token method everywhere and AppRole where enabled. */
export function authMounts(
  space: Space,
  save: () => void,
  op: string,
  rest: string,
  data: Record<string, unknown>,
  requestId: string,
): Reply {
  const path = rest.replace(/^\/+/, "").replace(/\/+$/, "");
  if (path === "") {
    if (op !== "read") return errorReply(405, [multiError(["unsupported operation"])]);
    const all: Record<string, unknown> = {
      "token/": { type: "token", description: "token based credentials", accessor: "auth_token_stand_in" },
      ...(space.approle ? { "approle/": { type: "approle", description: "", accessor: "auth_approle_stand_in" } } : {}),
    };
    return envelope({ requestId, mountType: "system", data: all, sysInject: true });
  }
  if (op !== "update") return errorReply(405, [multiError(["unsupported operation"])]);
  if (path === "token" || (path === "approle" && space.approle)) {
    return errorReply(400, [`path is already in use at ${path}/`]);
  }
  if (path !== "approle" || data.type !== "approle") {
    return errorReply(400, ["the Vault stand-in only implements the approle auth method, at approle/"]);
  }
  space.approle = true;
  save();
  return noContent();
}

/** sys/policies/acl[/:name] and the older sys/policy[/:name] (vault/logical_system.go). */
export function policies(
  space: Space,
  save: () => void,
  op: string,
  path: string,
  data: Record<string, unknown>,
  requestId: string,
): Reply {
  const legacy = path.startsWith("sys/policy");
  const base = legacy ? "sys/policy" : "sys/policies/acl";
  if (path !== base && !path.startsWith(`${base}/`))
    return errorReply(404, [`no handler for route "${path}". route entry not found.`]);
  const name = path
    .slice(base.length)
    .replace(/^\/+|\/+$/g, "")
    .toLowerCase();
  const names = () => ["default", ...Object.keys(space.policies).filter((n) => n !== "default"), "root"].sort();
  if (name === "") {
    if (op === "list" || (legacy && op === "read")) {
      return envelope({
        requestId,
        mountType: "system",
        data: legacy ? { keys: names(), policies: names() } : { keys: names() },
        sysInject: legacy,
      });
    }
    return errorReply(405, [multiError(["unsupported operation"])]);
  }
  if (op === "read") {
    const text = space.policies[name] ?? (name === "default" ? DEFAULT_POLICY_TEXT : undefined);
    if (text === undefined) return errorReply(404);
    return envelope({
      requestId,
      mountType: "system",
      data: legacy ? { name, rules: text } : { name, policy: text },
      sysInject: legacy,
    });
  }
  if (op === "delete") {
    if (name === "root" || name === "default") return errorReply(400, [`cannot delete "${name}" policy`]);
    delete space.policies[name];
    save();
    return noContent();
  }
  if (op !== "update") return errorReply(405, [multiError(["unsupported operation"])]);
  if (name === "root") return errorReply(400, ['cannot update "root" policy']);
  const text = typeof data.policy === "string" ? data.policy : typeof data.rules === "string" ? data.rules : "";
  if (text === "") return errorReply(400, ["'policy' parameter not supplied or empty"]);
  try {
    parsePolicy(text);
  } catch (err) {
    if (err instanceof PolicyError) return errorReply(400, [err.message]);
    throw err;
  }
  space.policies[name] = text;
  save();
  return noContent();
}

/** sys/namespaces[/:name] (Vault Enterprise / HCP): each namespace has its own mounts, policies, auth and tokens. */
export function namespaces(
  store: Store,
  op: string,
  rest: string,
  _data: Record<string, unknown>,
  requestId: string,
): Reply {
  const name = rest.replace(/^\/+|\/+$/g, "");
  const all = store.state.namespaces;
  const info = (n: string) => ({ custom_metadata: {}, id: createHashId(n), path: `${n}/` });
  if (name === "") {
    if (op !== "list") return errorReply(405, [multiError(["unsupported operation"])]);
    const keys = Object.keys(all)
      .sort()
      .map((n) => `${n}/`);
    if (keys.length === 0) return errorReply(404);
    return envelope({
      requestId,
      mountType: "system",
      data: { key_info: Object.fromEntries(Object.keys(all).map((n) => [`${n}/`, info(n)])), keys },
    });
  }
  if (!/^[A-Za-z0-9_-]+$/.test(name)) return errorReply(400, [`"${name}" is not a valid namespace name`]);
  if (op === "read") {
    if (!all[name]) return errorReply(404);
    return envelope({ requestId, mountType: "system", data: info(name) });
  }
  if (op === "delete") {
    delete all[name];
    for (const [t, r] of Object.entries(store.state.tokens)) if (r.namespace === name) delete store.state.tokens[t];
    store.save();
    return noContent();
  }
  if (op !== "update") return errorReply(405, [multiError(["unsupported operation"])]);
  if (!all[name]) {
    // A new namespace starts empty: no secrets engines, no auth methods but tokens, only the default policy.
    all[name] = newSpace(false);
    store.save();
  }
  return envelope({ requestId, mountType: "system", data: info(name) });
}

function createHashId(name: string): string {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h.toString(36).padStart(5, "0").slice(0, 5);
}
