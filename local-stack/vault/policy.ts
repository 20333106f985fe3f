// ACL policies, after hashicorp/vault vault/policy.go (parsing, capabilities) and vault/acl.go
// (merging and matching): exact paths, a trailing `*` glob (prefix), `+` segment wildcards, the
// documented priority between them, `deny` overriding everything on its path. Policies are HCL
// (the subset every policy uses: `path "…" { capabilities = [...] }`) or the equivalent JSON.

export const CAPABILITIES = ["create", "read", "update", "delete", "list", "patch", "sudo", "deny"] as const;
export type Capability = (typeof CAPABILITIES)[number];
/** What a request needs; `create` vs `update` is decided by the engine's existence check. */
export type Needed = "create" | "read" | "update" | "delete" | "list";

export interface PathRule {
  path: string;
  capabilities: Set<Capability>;
}

/** A parse or validation failure, worded like Vault's ("failed to parse policy: …"). */
export class PolicyError extends Error {}

// Attributes Vault knows that the stand-in does not enforce: refusing them beats silently allowing more.
const UNSUPPORTED = [
  "allowed_parameters",
  "denied_parameters",
  "required_parameters",
  "min_wrapping_ttl",
  "max_wrapping_ttl",
  "mfa_methods",
  "control_group",
  "subscribe_event_types",
];

// Legacy `policy = "…"` shorthands (policy.go).
const LEGACY: Record<string, Capability[]> = {
  deny: ["deny"],
  read: ["read", "list"],
  write: ["create", "read", "update", "delete", "list"],
  sudo: ["create", "read", "update", "delete", "list", "sudo"],
};

/** Parses a policy document (HCL or JSON) into its path rules. */
export function parsePolicy(text: string): PathRule[] {
  const trimmed = text.trim();
  if (trimmed === "") throw new PolicyError("failed to parse policy: policy is empty");
  const doc = trimmed.startsWith("{") ? parseJsonPolicy(trimmed) : parseHcl(trimmed);
  const rules: PathRule[] = [];
  for (const [path, attrs] of doc) {
    for (const key of Object.keys(attrs)) {
      if (UNSUPPORTED.includes(key)) {
        throw new PolicyError(
          `failed to parse policy: the Vault stand-in does not implement "${key}" (path "${path}")`,
        );
      }
      if (key !== "capabilities" && key !== "policy") {
        throw new PolicyError(`failed to parse policy: path "${path}": invalid key "${key}"`);
      }
    }
    const caps = new Set<Capability>();
    if (attrs.policy !== undefined) {
      const legacy = typeof attrs.policy === "string" ? LEGACY[attrs.policy] : undefined;
      if (!legacy)
        throw new PolicyError(`failed to parse policy: path "${path}": invalid policy "${String(attrs.policy)}"`);
      for (const c of legacy) caps.add(c);
    }
    if (attrs.capabilities !== undefined) {
      if (!Array.isArray(attrs.capabilities)) {
        throw new PolicyError(`failed to parse policy: path "${path}": capabilities must be a list`);
      }
      for (const c of attrs.capabilities) {
        if (!(CAPABILITIES as readonly unknown[]).includes(c)) {
          throw new PolicyError(`failed to parse policy: path "${path}": invalid capability "${String(c)}"`);
        }
        caps.add(c as Capability);
      }
    }
    rules.push({ path: path.replace(/^\/+/, ""), capabilities: caps });
  }
  return rules;
}

type Attrs = Record<string, unknown>;

function parseJsonPolicy(text: string): Array<[string, Attrs]> {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new PolicyError(`failed to parse policy: ${(err as Error).message}`);
  }
  const paths = (doc as { path?: unknown }).path;
  if (!paths || typeof paths !== "object") return [];
  return Object.entries(paths as Record<string, Attrs>);
}

/** The HCL subset of policies: `path "p" { key = value }` blocks, lists of strings, comments. */
function parseHcl(text: string): Array<[string, Attrs]> {
  const tokens = tokenize(text);
  let i = 0;
  const next = () => tokens[i++];
  const expect = (want: string) => {
    const t = next();
    if (t?.v !== want) throw new PolicyError(`failed to parse policy: expected "${want}" at line ${t?.line ?? "end"}`);
  };
  const value = (): unknown => {
    const t = next();
    if (!t) throw new PolicyError("failed to parse policy: unexpected end of input");
    if (t.kind === "string" || t.kind === "number") return t.v;
    if (t.v === "[") {
      const out: unknown[] = [];
      while (tokens[i]?.v !== "]") {
        out.push(value());
        if (tokens[i]?.v === ",") i++;
      }
      i++;
      return out;
    }
    if (t.v === "{") {
      const out: Attrs = {};
      while (tokens[i]?.v !== "}") {
        const key = next();
        if (!key) throw new PolicyError("failed to parse policy: unexpected end of input");
        if (tokens[i]?.v === "=") i++;
        out[key.v] = value();
        if (tokens[i]?.v === ",") i++;
      }
      i++;
      return out;
    }
    throw new PolicyError(`failed to parse policy: unexpected "${t.v}" at line ${t.line}`);
  };
  const out: Array<[string, Attrs]> = [];
  while (i < tokens.length) {
    const kw = next()!;
    if (kw.kind !== "ident" || kw.v !== "path") {
      throw new PolicyError(`failed to parse policy: invalid key "${kw.v}" on line ${kw.line}`);
    }
    const p = next();
    if (p?.kind !== "string")
      throw new PolicyError(`failed to parse policy: path needs a quoted name (line ${kw.line})`);
    if (tokens[i]?.v === "=") i++;
    if (tokens[i]?.v !== "{") expect("{");
    out.push([p.v, value() as Attrs]);
  }
  return out;
}

interface Token {
  kind: "string" | "ident" | "punct" | "number";
  v: string;
  line: number;
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      i++;
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === "#" || (c === "/" && text[i + 1] === "/")) {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      if (end === -1) throw new PolicyError(`failed to parse policy: unterminated comment at line ${line}`);
      line += text.slice(i, end).split("\n").length - 1;
      i = end + 2;
    } else if (c === '"') {
      let j = i + 1;
      let s = "";
      while (j < text.length && text[j] !== '"') {
        if (text[j] === "\\") j++;
        if (text[j] === "\n") throw new PolicyError(`failed to parse policy: unterminated string at line ${line}`);
        s += text[j];
        j++;
      }
      if (j >= text.length) throw new PolicyError(`failed to parse policy: unterminated string at line ${line}`);
      out.push({ kind: "string", v: s, line });
      i = j + 1;
    } else if ("{}[]=,".includes(c)) {
      out.push({ kind: "punct", v: c, line });
      i++;
    } else {
      const m = /^[A-Za-z0-9_.-]+/.exec(text.slice(i));
      if (!m) throw new PolicyError(`failed to parse policy: unexpected "${c}" at line ${line}`);
      out.push({ kind: /^\d/.test(m[0]) ? "number" : "ident", v: m[0], line });
      i += m[0].length;
    }
  }
  return out;
}

/** The merged rules of a token's policies (acl.go NewACL), and the check of one request against them. */
export class Acl {
  private readonly exact = new Map<string, Set<Capability>>();
  private readonly prefix = new Map<string, Set<Capability>>();
  private readonly segment = new Map<string, Set<Capability>>();

  constructor(rules: PathRule[]) {
    for (const r of rules) {
      const isPrefix = r.path.endsWith("*");
      const target = r.path.includes("+") ? this.segment : isPrefix ? this.prefix : this.exact;
      const key = target === this.prefix ? r.path.slice(0, -1) : r.path;
      const merged = target.get(key) ?? new Set<Capability>();
      // An explicit deny on a path wins over every grant on the same path, from any policy.
      if (merged.has("deny") || r.capabilities.has("deny")) {
        target.set(key, new Set(["deny"]));
        continue;
      }
      for (const c of r.capabilities) merged.add(c);
      target.set(key, merged);
    }
  }

  /** Whether `needed` is allowed on `path` (relative to the token's namespace, no leading slash). */
  allows(path: string, needed: Needed): boolean {
    const caps = this.capabilitiesFor(path, needed === "list");
    return !!caps && !caps.has("deny") && caps.has(needed);
  }

  private capabilitiesFor(path: string, list: boolean): Set<Capability> | undefined {
    const exact = this.exact.get(path) ?? (list ? this.exact.get(path.replace(/\/$/, "")) : undefined);
    if (exact) return exact;
    if (list && path.endsWith("/")) {
      const found = this.nonExact(path.slice(0, -1));
      if (found) return found;
    }
    return this.nonExact(path);
  }

  // CheckAllowedFromNonExactPaths: the longest glob prefix competes with the segment-wildcard paths.
  private nonExact(path: string): Set<Capability> | undefined {
    interface Candidate {
      firstWildcard: number;
      wildcards: number;
      isPrefix: boolean;
      pattern: string;
      caps: Set<Capability>;
    }
    const candidates: Candidate[] = [];
    let longest: string | undefined;
    for (const p of this.prefix.keys()) {
      if (path.startsWith(p) && (longest === undefined || p.length > longest.length)) longest = p;
    }
    if (longest !== undefined) {
      candidates.push({
        firstWildcard: longest.length,
        wildcards: 0,
        isPrefix: true,
        pattern: longest,
        caps: this.prefix.get(longest)!,
      });
    }
    const parts = path.split("/");
    for (const [full, caps] of this.segment) {
      const isPrefix = full.endsWith("*");
      const pattern = isPrefix ? full.slice(0, -1) : full;
      const segs = pattern.split("/");
      if (parts.length < segs.length || (!isPrefix && segs.length !== parts.length)) continue;
      let wildcards = 0;
      const matches = segs.every((seg, i) => {
        if (seg === "+") {
          wildcards++;
          return true;
        }
        if (seg === parts[i]) return true;
        return isPrefix && i === segs.length - 1 && parts[i]!.startsWith(seg);
      });
      if (matches) candidates.push({ firstWildcard: full.indexOf("+"), wildcards, isPrefix, pattern, caps });
    }
    if (candidates.length === 0) return undefined;
    // Highest priority last, as acl.go sorts: later first wildcard, not a prefix, fewer wildcards, longer.
    candidates.sort(
      (a, b) =>
        a.firstWildcard - b.firstWildcard ||
        Number(b.isPrefix) - Number(a.isPrefix) ||
        b.wildcards - a.wildcards ||
        a.pattern.length - b.pattern.length ||
        (a.pattern < b.pattern ? -1 : a.pattern > b.pattern ? 1 : 0),
    );
    return candidates[candidates.length - 1]!.caps;
  }
}

/** Vault's built-in `default` policy, trimmed to the token and identity paths a client uses on itself. */
export const DEFAULT_POLICY = `
# Allow tokens to look up their own properties
path "auth/token/lookup-self" {
    capabilities = ["read"]
}
# Allow tokens to renew themselves
path "auth/token/renew-self" {
    capabilities = ["update"]
}
# Allow tokens to revoke themselves
path "auth/token/revoke-self" {
    capabilities = ["update"]
}
# Allow a token to look up its own capabilities on a path
path "sys/capabilities-self" {
    capabilities = ["update"]
}
# Allow a token to make requests to the Authorization Endpoint for OIDC providers.
path "identity/oidc/provider/+/authorize" {
    capabilities = ["read", "update"]
}
# Allow general purpose tools
path "sys/tools/hash" {
    capabilities = ["update"]
}
# Allow a token to wrap arbitrary values in a response-wrapping token
path "sys/wrapping/wrap" {
    capabilities = ["update"]
}
# Allow a token to look up the properties of a response-wrapping token
path "sys/wrapping/lookup" {
    capabilities = ["update"]
}
# Allow a token to unwrap a response-wrapping token
path "sys/wrapping/unwrap" {
    capabilities = ["update"]
}
# Allow a token to manage its own cubbyhole
path "cubbyhole/*" {
    capabilities = ["create", "read", "update", "delete", "list"]
}
`;
