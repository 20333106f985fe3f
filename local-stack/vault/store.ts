// In-memory state of the stand-in and its optional JSON persistence.
// Times are kept as decimal nanosecond strings so the state round-trips
// through JSON without losing precision.
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** One version of a secret; `data` is dropped when the version is destroyed or pruned. */
export interface VersionRecord {
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

/** A token issued by AppRole login. The root token is configuration, not state. */
export interface IssuedToken {
  accessor: string;
  policies: string[];
  ttlSeconds: number;
  issueTime: string;
  expireTime: string;
  entityId: string;
  roleName: string;
}

export interface State {
  mounts: Record<string, MountRecord>;
  tokens: Record<string, IssuedToken>;
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
      this.state = { mounts: {}, tokens: {} };
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
    return { mounts: parsed.mounts ?? {}, tokens: parsed.tokens ?? {} };
  }

  /** Persist atomically: a reader never sees a half-written file. */
  save(): void {
    if (!this.dataFile) return;
    mkdirSync(dirname(this.dataFile), { recursive: true });
    const tmp = `${this.dataFile}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state), { mode: 0o600 });
    renameSync(tmp, this.dataFile);
  }

  /** Drop every secret and engine setting but keep the mounts themselves. */
  resetData(): void {
    for (const mount of Object.values(this.state.mounts)) {
      mount.keys = {};
      mount.config = { maxVersions: 0, casRequired: false, deleteVersionAfterSeconds: 0 };
    }
    this.save();
  }
}
