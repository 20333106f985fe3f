// In-memory state of the stand-in and its optional JSON persistence.
// Times are kept as decimal nanosecond strings so the state round-trips
// through JSON without losing precision.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Who changed a key (KV v2 attribution, Vault 1.21+): `actor` is the token's display name,
 * `client_id` the entity (or, without one, an id derived from the token's policies and namespace),
 * `operation` the ACL operation of the request (create / update / delete / undelete).
 */
export interface Attribution {
  actor: string;
  client_id: string;
  operation: string;
}

/** One version of a secret; `data` is dropped when the version is destroyed or pruned. */
export interface VersionRecord {
  createdBy?: Attribution;
  deletedBy?: Attribution;
  createdTime: string;
  deletionTime: string | null;
  destroyed: boolean;
  data: Record<string, unknown> | null;
}

/** Per-key metadata, shaped after the plugin's `KeyMetadata` protobuf. */
export interface KeyMeta {
  currentVersion: number;
  oldestVersion: number;
  maxVersions: number;
  casRequired: boolean;
  deleteVersionAfterSeconds: number;
  customMetadata: Record<string, string> | null;
  createdTime: string | null;
  updatedTime: string | null;
  lastUpdatedBy?: Attribution;
  versions: Record<string, VersionRecord>;
}

/** Engine-wide settings of one KV v2 mount (`{mount}/config`). */
export interface EngineConfig {
  maxVersions: number;
  casRequired: boolean;
  deleteVersionAfterSeconds: number;
}

export interface MountRecord {
  type: "kv";
  options: { version: "2" };
  description: string;
  uuid: string;
  accessor: string;
  config: EngineConfig;
  keys: Record<string, KeyMeta>;
}

/** A token issued by an AppRole login or `auth/token/create`. The root token is configuration, not state. */
export interface IssuedToken {
  accessor: string;
  /** Sorted, `default` included unless the role or request left it out. */
  policies: string[];
  ttlSeconds: number;
  issueTime: string;
  expireTime: string;
  entityId: string;
  /** The AppRole role's name, or null for a token from `auth/token/create`. */
  roleName: string | null;
  displayName: string;
  /** The namespace the token was issued in ("" = root). */
  namespace: string;
}

/** An AppRole role (`auth/approle/role/:name`). Secret IDs are kept as given: this is a laptop stand-in. */
export interface AppRoleRecord {
  roleId: string;
  secretIds: Record<string, { accessor: string; createdTime: string }>;
  tokenPolicies: string[];
  tokenTtlSeconds: number;
  tokenMaxTtlSeconds: number;
  tokenNoDefaultPolicy: boolean;
}

/** What one namespace holds; the root namespace's fields sit at the top of `State`. */
export interface Space {
  mounts: Record<string, MountRecord>;
  /** ACL policies by name, as their source text. `default` is built in; `root` cannot be written. */
  policies: Record<string, string>;
  roles: Record<string, AppRoleRecord>;
  /** Whether `auth/approle` is enabled in this namespace. */
  approle: boolean;
}

export interface State extends Space {
  tokens: Record<string, IssuedToken>;
  /** Child namespaces of the root (Vault Enterprise / HCP), by path without slashes. */
  namespaces: Record<string, Space>;
}

export function newSpace(approle: boolean): Space {
  return { mounts: {}, policies: {}, roles: {}, approle };
}

/** A fresh KV v2 mount record, like `vault secrets enable -version=2 kv`. */
export function newKvMount(description = "key/value secret storage"): MountRecord {
  return {
    type: "kv",
    options: { version: "2" },
    description,
    uuid: randomUUID(),
    accessor: `kv_${randomBytes(4).toString("hex")}`,
    config: { maxVersions: 0, casRequired: false, deleteVersionAfterSeconds: 0 },
    keys: {},
  };
}

/** Holds the state and writes it to `dataFile` after every mutation. */
export class Store {
  state: State;

  constructor(
    private readonly dataFile: string | undefined,
    initialMounts: string[],
  ) {
    const loaded = dataFile ? Store.load(dataFile) : null;
    if (loaded) {
      this.state = loaded;
    } else {
      this.state = { ...newSpace(true), tokens: {}, namespaces: {} };
      for (const m of initialMounts) this.state.mounts[m] = newKvMount();
      this.save();
    }
  }

  private static load(file: string): State | null {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
    const parsed = JSON.parse(text) as Partial<State>;
    // Files written before policies, roles and namespaces existed load with none of them.
    return {
      mounts: parsed.mounts ?? {},
      policies: parsed.policies ?? {},
      roles: parsed.roles ?? {},
      approle: parsed.approle ?? true,
      tokens: parsed.tokens ?? {},
      namespaces: parsed.namespaces ?? {},
    };
  }

  /** Persist atomically: a reader never sees a half-written file. */
  save(): void {
    if (!this.dataFile) return;
    mkdirSync(dirname(this.dataFile), { recursive: true });
    const tmp = `${this.dataFile}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state), { mode: 0o600 });
    renameSync(tmp, this.dataFile);
  }

  /** The namespace at `path` ("" = root), or undefined when it does not exist. */
  space(path: string): Space | undefined {
    return path === "" ? this.state : this.state.namespaces[path];
  }

  /** Drop every secret and engine setting but keep the mounts themselves. */
  resetData(): void {
    for (const mount of [this.state, ...Object.values(this.state.namespaces)].flatMap((s) => Object.values(s.mounts))) {
      mount.keys = {};
      mount.config = { maxVersions: 0, casRequired: false, deleteVersionAfterSeconds: 0 };
    }
    this.save();
  }
}
