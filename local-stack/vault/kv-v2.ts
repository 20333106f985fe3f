// The KV v2 secrets engine, ported from hashicorp/vault-plugin-secrets-kv
// (backend.go, path_data.go, path_metadata.go, path_delete.go,
// path_destroy.go, path_config.go): same path patterns, same checks in the
// same order, same messages.
import type { Attribution, EngineConfig, KeyMeta, MountRecord, VersionRecord } from "./store";
import { envelope, errorReply, multiError, noContent, type Reply } from "./respond";
import { goDuration, nowNanos, parseDurationSeconds, timeOrEmpty, type Nanos } from "./time";

export type Operation = "read" | "list" | "update" | "delete";

export interface KvRequest {
  op: Operation;
  /** Path inside the mount, e.g. "data/openai" (lists already end in "/"). */
  path: string;
  /** JSON body for updates; query parameters for reads and deletes. */
  data: Record<string, unknown>;
  requestId: string;
  /** Who is calling, for the attribution fields (`operation` is filled in per endpoint). */
  caller?: Omit<Attribution, "operation">;
}

// plugin backend.go: defaultMaxVersions
const DEFAULT_MAX_VERSIONS = 10;
// path_metadata.go limits
const MAX_CUSTOM_METADATA_KEYS = 64;
const MAX_CUSTOM_METADATA_KEY_LENGTH = 128;
const MAX_CUSTOM_METADATA_VALUE_LENGTH = 512;
const CUSTOM_METADATA_PREFIX = "custom_metadata validation failed";

/** Dispatch one request to the engine; `persist` is called after every mutation. */
export function handleKv(mount: MountRecord, req: KvRequest, persist: () => void): Reply {
  const engine = new KvEngine(mount, req, persist);
  return engine.route();
}

/** Vault's framework answers this when the path exists but not for this operation. */
function unsupportedOperation(): Reply {
  return errorReply(405, [multiError(["unsupported operation"])]);
}

/** A raw (RespondWithStatusCode) reply: full envelope, but mount_type stays "". */
function rawEnvelope(
  requestId: string,
  status: number,
  data: Record<string, unknown> | null,
  warnings?: string[],
): Reply {
  return envelope({ requestId, mountType: "", data, status, warnings: warnings ?? null });
}

class KvEngine {
  constructor(
    private readonly mount: MountRecord,
    private readonly req: KvRequest,
    private readonly persist: () => void,
  ) {}

  route(): Reply {
    const { path, op } = this.req;
    if (path === "config") {
      if (op === "read") return this.configRead();
      if (op === "update") return this.configWrite();
      return unsupportedOperation();
    }
    // data/ + matchAllNoTrailingSlashRegex: a key that does not end in "/".
    const dataMatch = /^data\/(.*[^/])$/s.exec(path);
    if (dataMatch) {
      const key = dataMatch[1] ?? "";
      if (op === "read") return this.dataRead(key);
      if (op === "update") return this.dataWrite(key);
      if (op === "delete") return this.dataDelete(key);
      return unsupportedOperation();
    }
    if (path.startsWith("metadata/")) {
      const key = path.slice("metadata/".length);
      if (op === "read") return this.metadataRead(key);
      if (op === "update") return this.metadataWrite(key);
      if (op === "delete") return this.metadataDelete(key);
      return this.metadataList(key);
    }
    for (const verb of ["delete", "undelete", "destroy"] as const) {
      if (path.startsWith(`${verb}/`)) {
        if (op !== "update") return unsupportedOperation();
        return this.versionsWrite(verb, path.slice(verb.length + 1));
      }
    }
    return this.invalidPath();
  }

  // backend.go pathInvalid: a 404 whose only content is a warning.
  private invalidPath(): Reply {
    const { path, op, requestId } = this.req;
    if (["metadata", "data", "delete", "undelete", "destroy"].includes(path)) {
      return rawEnvelope(requestId, 404, null, [
        "Non-listing operations on the root of a K/V v2 mount are not supported.",
      ]);
    }
    const sub = { update: "put", read: "get", list: "list", delete: "delete" }[op];
    return rawEnvelope(requestId, 404, null, [
      `Invalid path for a versioned K/V secrets engine. See the API docs for the appropriate API endpoints to use. If using the Vault CLI, use 'vault kv ${sub}' for this operation.`,
    ]);
  }

  /** The attribution of this request as `{[field]: …}`, or nothing when the caller is unknown. */
  private by<F extends "createdBy" | "deletedBy">(operation: string, field: F): Partial<Record<F, Attribution>> {
    const c = this.req.caller;
    return c ? ({ [field]: { ...c, operation } } as Partial<Record<F, Attribution>>) : {};
  }

  private ok(data: Record<string, unknown> | null): Reply {
    return envelope({ requestId: this.req.requestId, mountType: "kv", data });
  }

  // ---- config ----------------------------------------------------------

  private configRead(): Reply {
    const c = this.mount.config;
    return this.ok({
      cas_required: c.casRequired,
      delete_version_after: goDuration(c.deleteVersionAfterSeconds),
      max_versions: c.maxVersions,
    });
  }

  private configWrite(): Reply {
    const d = this.req.data;
    const next: EngineConfig = { ...this.mount.config };
    if ("max_versions" in d) {
      const n = toInt(d.max_versions);
      if (n === null) return errorReply(400, [fieldError(d.max_versions, "max_versions")]);
      next.maxVersions = n;
    }
    if ("cas_required" in d) {
      const b = toBool(d.cas_required);
      if (b === null) return errorReply(400, [fieldError(d.cas_required, "cas_required")]);
      next.casRequired = b;
    }
    if ("delete_version_after" in d) {
      const s = parseDurationSeconds(d.delete_version_after);
      if (s === null) return errorReply(400, [fieldError(d.delete_version_after, "delete_version_after")]);
      next.deleteVersionAfterSeconds = Math.max(0, s);
    }
    this.mount.config = next;
    this.persist();
    return noContent();
  }

  // ---- data ------------------------------------------------------------

  private dataRead(key: string): Reply {
    const meta = this.mount.keys[key];
    if (!meta) return errorReply(404);
    let verNum = meta.currentVersion;
    if ("version" in this.req.data) {
      const v = toInt(this.req.data.version);
      if (v === null) return errorReply(400, [fieldError(this.req.data.version, "version")]);
      if (v > 0) verNum = v;
    }
    const vm = meta.versions[String(verNum)];
    if (!vm) return errorReply(404);
    const metadata = {
      version: verNum,
      created_time: timeOrEmpty(toNanos(vm.createdTime)),
      deletion_time: timeOrEmpty(toNanos(vm.deletionTime)),
      destroyed: vm.destroyed,
      custom_metadata: meta.customMetadata,
    };
    // Soft-deleted (deletion time passed) or destroyed: metadata with a 404.
    if (isDeleted(vm) || vm.destroyed) {
      return rawEnvelope(this.req.requestId, 404, { data: null, metadata });
    }
    return this.ok({ data: vm.data ?? {}, metadata });
  }

  private dataWrite(key: string): Reply {
    const d = this.req.data;
    // GetOk on a TypeMap: absent or null means "not provided".
    if (d.data === undefined || d.data === null) return errorReply(400, ["no data provided"]);
    if (typeof d.data !== "object" || Array.isArray(d.data)) {
      return errorReply(400, [fieldError(d.data, "data")]);
    }
    const meta = this.mount.keys[key] ?? emptyMeta();
    const casError = this.checkCas(meta);
    if (casError) return errorReply(400, [casError]);

    const created = nowNanos();
    const deletion = this.deletionTimeFor(created, meta);
    const vm: VersionRecord = {
      // The request's ACL operation: create when the key had no metadata (the existence check).
      ...this.by(this.mount.keys[key] === undefined ? "create" : "update", "createdBy"),
      createdTime: created.toString(),
      deletionTime: deletion === null ? null : deletion.toString(),
      destroyed: false,
      data: structuredClone(d.data as Record<string, unknown>),
    };
    addVersion(meta, vm, this.mount.config.maxVersions);
    if (vm.createdBy) meta.lastUpdatedBy = vm.createdBy;
    this.mount.keys[key] = meta;
    this.persist();
    return this.ok({
      version: meta.currentVersion,
      created_time: timeOrEmpty(created),
      deletion_time: timeOrEmpty(deletion),
      destroyed: false,
      custom_metadata: meta.customMetadata,
    });
  }

  // path_data.go validateCheckAndSetOption
  private checkCas(meta: KeyMeta): string | null {
    const options = this.req.data.options;
    const hasCas = !!options && typeof options === "object" && !Array.isArray(options) && "cas" in options;
    if (hasCas) {
      const cas = toInt((options as Record<string, unknown>).cas);
      if (cas === null) return "error parsing check-and-set parameter";
      if (cas !== meta.currentVersion) return "check-and-set parameter did not match the current version";
    } else if (this.mount.config.casRequired || meta.casRequired) {
      return "check-and-set parameter required for this call";
    }
    return null;
  }

  // delete_version_after.go: the key's value applies unless the engine's is shorter.
  private deletionTimeFor(created: Nanos, meta: KeyMeta): Nanos | null {
    const engine = this.mount.config.deleteVersionAfterSeconds;
    const own = meta.deleteVersionAfterSeconds;
    let dva = engine;
    if (own > 0) dva = engine > 0 ? Math.min(own, engine) : own;
    if (dva <= 0) return null;
    return created + BigInt(dva) * 1_000_000_000n;
  }

  private dataDelete(key: string): Reply {
    const meta = this.mount.keys[key];
    if (!meta) return noContent();
    const lv = meta.versions[String(meta.currentVersion)];
    if (!lv || lv.destroyed || isDeleted(lv)) return noContent();
    lv.deletionTime = nowNanos().toString();
    Object.assign(lv, this.by("delete", "deletedBy"));
    this.persist();
    return noContent();
  }

  // ---- delete / undelete / destroy versions ------------------------------

  private versionsWrite(verb: "delete" | "undelete" | "destroy", key: string): Reply {
    const versions = toIntSlice(this.req.data.versions);
    if (versions === null) return errorReply(400, [fieldError(this.req.data.versions, "versions")]);
    if (versions.length === 0) {
      // The plugin capitalises the message differently per endpoint.
      return errorReply(400, [verb === "destroy" ? "no version number provided" : "No version number provided"]);
    }
    const meta = this.mount.keys[key];
    if (!meta) return noContent();
    for (const n of versions) {
      const vm = meta.versions[String(n)];
      if (!vm || vm.destroyed) continue;
      if (verb === "delete") {
        if (!isDeleted(vm)) {
          vm.deletionTime = nowNanos().toString();
          Object.assign(vm, this.by("delete", "deletedBy"));
        }
      } else if (verb === "undelete") {
        const deletion = this.deletionTimeFor(nowNanos(), meta);
        vm.deletionTime = deletion === null ? null : deletion.toString();
        delete vm.deletedBy;
      } else {
        vm.destroyed = true;
        vm.data = null;
      }
    }
    this.persist();
    return noContent();
  }

  // ---- metadata ----------------------------------------------------------

  private metadataRead(key: string): Reply {
    const meta = this.mount.keys[key];
    if (!meta) return errorReply(404);
    const versions: Record<string, unknown> = {};
    for (const [n, v] of Object.entries(meta.versions)) {
      versions[n] = {
        created_time: timeOrEmpty(toNanos(v.createdTime)),
        deletion_time: timeOrEmpty(toNanos(v.deletionTime)),
        destroyed: v.destroyed,
        ...(v.createdBy ? { created_by: v.createdBy } : {}),
        ...(v.deletedBy ? { deleted_by: v.deletedBy } : {}),
      };
    }
    return this.ok({
      versions,
      current_version: meta.currentVersion,
      oldest_version: meta.oldestVersion,
      created_time: timeOrEmpty(toNanos(meta.createdTime)),
      updated_time: timeOrEmpty(toNanos(meta.updatedTime)),
      max_versions: meta.maxVersions,
      cas_required: meta.casRequired,
      delete_version_after: goDuration(meta.deleteVersionAfterSeconds),
      custom_metadata: meta.customMetadata,
      ...(meta.lastUpdatedBy ? { last_updated_by: meta.lastUpdatedBy } : {}),
    });
  }

  private metadataWrite(key: string): Reply {
    if (key === "") return errorReply(400, ["missing path"]);
    const d = this.req.data;
    const has = (f: string) => f in d && d[f] !== null && d[f] !== undefined;
    // "Fast path validation": nothing to set, nothing is created.
    if (!has("max_versions") && !has("cas_required") && !has("delete_version_after") && !has("custom_metadata")) {
      return noContent();
    }
    let custom: Record<string, string> | null = null;
    if (has("custom_metadata")) {
      const raw = d.custom_metadata;
      if (typeof raw !== "object" || Array.isArray(raw)) {
        return errorReply(400, [fieldError(raw, "custom_metadata")]);
      }
      custom = {};
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        const s = weakString(v);
        if (s === null)
          return errorReply(400, [
            `${CUSTOM_METADATA_PREFIX}: '' expected type 'string', got unconvertible type '${typeof v}'`,
          ]);
        custom[k] = s;
      }
      const errs = validateCustomMetadata(custom);
      if (errs.length > 0) return errorReply(400, [multiError(errs)]);
    }
    let maxVersions: number | null = null;
    if (has("max_versions")) {
      maxVersions = toInt(d.max_versions);
      if (maxVersions === null) return errorReply(400, [fieldError(d.max_versions, "max_versions")]);
    }
    let casRequired: boolean | null = null;
    if (has("cas_required")) {
      casRequired = toBool(d.cas_required);
      if (casRequired === null) return errorReply(400, [fieldError(d.cas_required, "cas_required")]);
    }
    let dva: number | null = null;
    if (has("delete_version_after")) {
      dva = parseDurationSeconds(d.delete_version_after);
      if (dva === null) return errorReply(400, [fieldError(d.delete_version_after, "delete_version_after")]);
    }

    let meta = this.mount.keys[key];
    if (!meta) {
      const now = nowNanos().toString();
      meta = { ...emptyMeta(), createdTime: now, updatedTime: now };
    }
    if (maxVersions !== null) meta.maxVersions = maxVersions;
    if (casRequired !== null) meta.casRequired = casRequired;
    if (dva !== null) meta.deleteVersionAfterSeconds = dva;
    if (custom !== null) meta.customMetadata = custom;
    this.mount.keys[key] = meta;
    this.persist();

    if (casRequired === false && this.mount.config.casRequired) {
      // The plugin answers with a warning-only response (200) in this case.
      return envelope({
        requestId: this.req.requestId,
        mountType: "kv",
        data: null,
        warnings: ['"cas_required" set to false, but is mandated by backend config. This value will be ignored.'],
      });
    }
    return noContent();
  }

  private metadataDelete(key: string): Reply {
    if (this.mount.keys[key]) {
      delete this.mount.keys[key];
      this.persist();
    }
    return noContent();
  }

  private metadataList(prefix: string): Reply {
    const children = new Set<string>();
    for (const key of Object.keys(this.mount.keys)) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      if (rest === "") continue;
      const slash = rest.indexOf("/");
      children.add(slash === -1 ? rest : rest.slice(0, slash + 1));
    }
    // http/logical.go: a list with no keys is a 404 like a missing read.
    if (children.size === 0) return errorReply(404);
    return this.ok({ keys: [...children].sort() });
  }
}

// ---- helpers ---------------------------------------------------------------

function emptyMeta(): KeyMeta {
  return {
    currentVersion: 0,
    oldestVersion: 0,
    maxVersions: 0,
    casRequired: false,
    deleteVersionAfterSeconds: 0,
    customMetadata: null,
    createdTime: null,
    updatedTime: null,
    versions: {},
  };
}

/**
 * path_data.go KeyMetadata.AddVersion: append, then slide the window so at
 * most max(key, engine) versions remain (10 when both are 0).
 */
function addVersion(meta: KeyMeta, vm: VersionRecord, engineMax: number): void {
  meta.currentVersion += 1;
  meta.versions[String(meta.currentVersion)] = vm;
  meta.updatedTime = vm.createdTime;
  if (meta.createdTime === null) meta.createdTime = vm.createdTime;
  const largest = Math.max(meta.maxVersions, engineMax);
  const maxVersions = largest > 0 ? largest : DEFAULT_MAX_VERSIONS;
  if (meta.currentVersion - meta.oldestVersion >= maxVersions) {
    const versionToDelete = meta.currentVersion - maxVersions;
    for (let i = meta.oldestVersion; i < versionToDelete + 1; i++) delete meta.versions[String(i)];
    meta.oldestVersion = versionToDelete + 1;
  }
}

function isDeleted(vm: VersionRecord): boolean {
  return vm.deletionTime !== null && BigInt(vm.deletionTime) < nowNanos();
}

function toNanos(s: string | null): Nanos | null {
  return s === null ? null : BigInt(s);
}

/** path_metadata.go validateCustomMetadata, same checks and wording. */
function validateCustomMetadata(cm: Record<string, string>): string[] {
  const count = Object.keys(cm).length;
  if (count > MAX_CUSTOM_METADATA_KEYS) {
    return [
      `${CUSTOM_METADATA_PREFIX}: payload must contain at most ${MAX_CUSTOM_METADATA_KEYS} keys, provided ${count}`,
    ];
  }
  const errs: string[] = [];
  for (const [key, value] of Object.entries(cm)) {
    const keyLen = Buffer.byteLength(key);
    if (keyLen === 0 || keyLen > MAX_CUSTOM_METADATA_KEY_LENGTH) {
      errs.push(
        `${CUSTOM_METADATA_PREFIX}: length of key ${goQuote(key)} is ${keyLen} but must be 0 < len(key) <= ${MAX_CUSTOM_METADATA_KEY_LENGTH}`,
      );
    }
    const valueLen = Buffer.byteLength(value);
    if (valueLen === 0 || valueLen > MAX_CUSTOM_METADATA_VALUE_LENGTH) {
      errs.push(
        `${CUSTOM_METADATA_PREFIX}: length of value for key ${goQuote(key)} is ${valueLen} but must be 0 < len(value) <= ${MAX_CUSTOM_METADATA_VALUE_LENGTH}`,
      );
    }
    if (!printable(key))
      errs.push(`${CUSTOM_METADATA_PREFIX}: key ${goQuote(key)} (${key}) contains unprintable characters`);
    if (!printable(value))
      errs.push(`${CUSTOM_METADATA_PREFIX}: value for key ${goQuote(key)} contains unprintable characters`);
  }
  return errs;
}

// strutil.Printable is unicode.IsPrint per rune: L, M, N, P, S and the ASCII space.
function printable(s: string): boolean {
  return !/[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/u.test(s);
}

/** Close to Go's %q for the strings that reach error messages. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Go's field-parse failure, wrapped the way the framework reports it. */
function fieldError(value: unknown, field: string): string {
  return multiError([`error converting input ${String(value)} for field "${field}"`]);
}

/** mapstructure.WeakDecode into an int: numbers, numeric strings, bools. */
export function toInt(v: unknown): number | null {
  if (typeof v === "number" && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string") {
    if (v === "") return 0;
    if (/^[+-]?\d+$/.test(v.trim())) return Number.parseInt(v.trim(), 10);
  }
  return null;
}

/** strconv.ParseBool plus JSON booleans. */
export function toBool(v: unknown): boolean | null {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") {
    if (["1", "t", "T", "TRUE", "true", "True"].includes(v)) return true;
    if (["0", "f", "F", "FALSE", "false", "False"].includes(v)) return false;
  }
  return null;
}

/** framework.TypeCommaIntSlice: an array, a single int, or "1,2,3". */
function toIntSlice(v: unknown): number[] | null {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) {
    const out: number[] = [];
    for (const item of v) {
      const n = toInt(item);
      if (n === null) return null;
      out.push(n);
    }
    return out;
  }
  if (typeof v === "string") {
    if (v.trim() === "") return [];
    return toIntSlice(v.split(","));
  }
  const n = toInt(v);
  return n === null ? null : [n];
}

/** mapstructure.WeakDecode into a string (custom_metadata values). */
function weakString(v: unknown): string | null {
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  if (typeof v === "boolean") return v ? "1" : "0";
  if (v === null) return "";
  return null;
}

/**
 * The plugin's existence check for `data/` and `metadata/` writes: whether the key has metadata
 * (then a write needs `update`, otherwise `create`); undefined where there is no check (`update`).
 */
export function kvKeyExists(mount: MountRecord, rest: string): boolean | undefined {
  const m = /^(data|metadata)\/(.*[^/])$/s.exec(rest);
  if (!m) return undefined;
  return mount.keys[m[2] ?? ""] !== undefined;
}
