// sys/health and sys/mounts, after hashicorp/vault http/sys_health.go,
// vault/logical_system.go and api-docs/system/{health,mounts}.mdx.
import { randomUUID } from "node:crypto";
import { envelope, errorReply, noContent, type Reply } from "./respond";
import { newKvMount, type MountRecord, type Store } from "./store";

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
 * GET|HEAD sys/health: no token needed, status chosen by state and the
 * documented `*code` query overrides; HEAD gets the status without a body.
 */
export function health(sealed: boolean, query: URLSearchParams, method: string): Reply {
  const code = (name: string, dflt: number) => {
    const v = query.get(name);
    const n = v === null ? Number.NaN : Number.parseInt(v, 10);
    return Number.isInteger(n) ? n : dflt;
  };
  const status = sealed ? code("sealedcode", 503) : code("activecode", 200);
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
        standby: false,
        performance_standby: false,
        replication_performance_mode: "disabled",
        replication_dr_mode: "disabled",
        server_time_utc: nowSecs,
        version: STAND_IN_VERSION,
        enterprise: false,
        cluster_name: CLUSTER_NAME,
        cluster_id: CLUSTER_ID,
      };
  return method === "HEAD" ? { status } : { status, body };
}

/** Everything under sys/mounts. `rest` is the part after "sys/mounts". */
export function mounts(
  store: Store,
  op: string,
  rest: string,
  data: Record<string, unknown>,
  requestId: string,
): Reply {
  const path = rest.replace(/^\/+/, "").replace(/\/+$/, "");
  const state = store.state;
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
      store.save();
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
  store.save();
  return noContent();
}

/** Longest mounted KV prefix of `path` (mount names carry no trailing "/"). */
export function findMount(store: Store, path: string): { name: string; mount: MountRecord; rest: string } | null {
  let best: string | null = null;
  for (const name of Object.keys(store.state.mounts)) {
    if ((path === name || path.startsWith(`${name}/`)) && (best === null || name.length > best.length)) best = name;
  }
  if (best === null) return null;
  const mount = store.state.mounts[best];
  if (!mount) return null;
  return { name: best, mount, rest: path.slice(best.length + 1) };
}
