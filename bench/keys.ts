/**
 * GET /vault/keys/:service, the gateway's hottest read: (1) its own time with
 * instant in-runtime upstreams, against a floor Worker making the same upstream
 * calls; (2) end to end against the real local stand-ins, against a direct call
 * to Vault and a bare proxy to Vault.
 */
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import type { LocalStack } from "../local-stack/stack";
import { devToken } from "../scripts/token";
import { DEV } from "../local-stack/settings";
import {
  BARE_PROXY_WORKER,
  cpuPerRequest,
  EMPTY_WORKER,
  SAME_CALLS_WORKER,
  send,
  startWorkers,
  timeInterleaved,
  type Target,
  type WorkerSpec,
} from "./miniflare";
import { fmtRatio, fmtUs, section, summarize, timedRow, verdict, type Row } from "./stats";
import {
  isAuditInsert,
  isConnectorSelect,
  startRecorder,
  UPSTREAM_WORKER,
  type Exchange,
  type KeyReadCalls,
} from "./upstream";

export const TENANT = "6f1c2a9e-4b7d-4e21-9c3a-5d8e7f001b42";
const USER = "00000000-0000-4000-8000-00000000be01";
const SERVICE = "openai";
const KEY_PATH = `/vault/keys/${SERVICE}`;

/** Hosts the gateway believes it talks to; outboundService sends them all to the upstream Worker. */
const FAKE = {
  vault: "http://vault.bench.internal",
  neon: "http://neon.bench.internal/sql",
  jwks: "http://idp.bench.internal/.well-known/jwks.json",
};

export interface KeysOptions {
  rounds: number;
  e2eRounds: number;
  cpuRequests: number;
}

/**
 * The gateway's settings with a static Vault token (the stand-in's root token) instead of AppRole:
 * a warm isolate reuses its cached AppRole token, so each read makes the same calls either way,
 * and the replaying upstream need not answer logins.
 */
function gatewayVars(stack: LocalStack): Record<string, string> {
  const { VAULT_ROLE_ID: _role, VAULT_SECRET_ID: _secret, ...rest } = stack.vars;
  return { ...rest, VAULT_TOKEN: stack.vaultRootToken! };
}

/** Seeds a key through the gateway and records the three calls of one read. */
async function capture(bundle: string, stack: LocalStack, token: string): Promise<KeyReadCalls> {
  const vault = await startRecorder(stack.vars.VAULT_ADDR!);
  const neonOrigin = new URL(stack.vars.NEON_FETCH_ENDPOINT!).origin;
  const neon = await startRecorder(neonOrigin);
  const h = await startWorkers([
    {
      name: "gw-capture",
      script: bundle,
      bindings: { ...gatewayVars(stack), VAULT_ADDR: vault.url, NEON_FETCH_ENDPOINT: `${neon.url}/sql` },
    },
  ]);
  try {
    const auth = { authorization: `Bearer ${token}` };
    const stored = await send(new URL(KEY_PATH, h.url("gw-capture")), {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({
        service: SERVICE,
        api_key: "sk-bench-0123456789abcdefghij",
        metadata: { label: "bench" },
      }),
    });
    if (stored.status !== 201 && stored.status !== 200)
      throw new Error(`seeding the key failed: ${stored.status} ${stored.body}`);
    await new Promise((r) => setTimeout(r, 200)); // the store's own audit insert
    vault.exchanges.length = 0;
    neon.exchanges.length = 0;
    const read = await send(new URL(KEY_PATH, h.url("gw-capture")), { headers: auth });
    if (read.status !== 200) throw new Error(`reading the key failed: ${read.status} ${read.body}`);
    for (let i = 0; i < 50 && !neon.exchanges.some(isAuditInsert); i++) await new Promise((r) => setTimeout(r, 20));
    const pick = (list: Exchange[], what: string, f: (e: Exchange) => boolean) => {
      const found = list.filter(f);
      if (found.length !== 1)
        throw new Error(
          `expected one ${what} call, saw ${found.length}: ${JSON.stringify(list.map((e) => e.body.slice(0, 200)))}`,
        );
      return found[0]!;
    };
    const calls = {
      vault: pick(vault.exchanges, "Vault metadata", (e) => e.method === "GET" && e.path.includes("/metadata/")),
      select: pick(neon.exchanges, "connector_configs select", isConnectorSelect),
      insert: pick(neon.exchanges, "audit insert", isAuditInsert),
    };
    const other = vault.exchanges.length + neon.exchanges.length - 3;
    if (other !== 0) throw new Error(`the read made ${other} calls besides the three expected`);
    return calls;
  } finally {
    await h.dispose();
    await vault.close();
    await neon.close();
  }
}

/** The floor Worker's calls, aimed at `vaultOrigin` and `neonUrl`. */
function callsFor(c: KeyReadCalls, vaultOrigin: string, neonUrl: string) {
  const call = (e: Exchange, url: string) => ({
    url,
    method: e.method,
    headers: e.headers,
    body: e.method === "GET" ? null : e.body,
  });
  return {
    vault: call(c.vault, vaultOrigin + c.vault.path),
    select: call(c.select, neonUrl),
    insert: call(c.insert, neonUrl),
  };
}

async function es256(): Promise<{ jwks: string; token: string }> {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "bench-es256", alg: "ES256", use: "sig" };
  const token = await new SignJWT({ tenant_id: TENANT, roles: ["member"] })
    .setProtectedHeader({ alg: "ES256", kid: jwk.kid, typ: "JWT" })
    .setIssuer(DEV.jwt.issuer)
    .setAudience(DEV.jwt.audience)
    .setSubject(USER)
    .setIssuedAt()
    .setExpirationTime("2h")
    .sign(privateKey);
  return { jwks: JSON.stringify({ keys: [jwk] }), token };
}

export async function benchKeys(
  bundle: string,
  stack: LocalStack,
  o: KeysOptions,
): Promise<{ rows: Row[]; notes: string[] }> {
  const admin = await devToken({ tenant: TENANT, user: USER, roles: ["admin"], ttlSeconds: 7200 });
  const member = await devToken({ tenant: TENANT, user: USER, roles: ["member"], ttlSeconds: 7200 });
  const calls = await capture(bundle, stack, admin);
  const es = await es256();

  const instantVars: Record<string, string> = {
    ...gatewayVars(stack),
    VAULT_ADDR: FAKE.vault,
    NEON_FETCH_ENDPOINT: FAKE.neon,
  };
  // ES256: the JWKS URL instead of the HS256 secret (the config takes exactly one).
  const esVars: Record<string, string> = { ...instantVars, JWT_JWKS_URL: FAKE.jwks, JWT_ALGORITHMS: "ES256" };
  delete esVars.JWT_SECRET;
  const replay = {
    jwksPath: new URL(FAKE.jwks).pathname,
    jwks: es.jwks,
    vault: { path: calls.vault.path, status: calls.vault.status, response: calls.vault.response },
    select: { status: calls.select.status, response: calls.select.response },
    insert: { status: calls.insert.status, response: calls.insert.response },
  };
  const workers: WorkerSpec[] = [
    { name: "upstream", script: UPSTREAM_WORKER, bindings: { REPLAY: replay } },
    { name: "gw-hs", script: bundle, bindings: instantVars, outbound: "upstream" },
    { name: "gw-es", script: bundle, bindings: esVars, outbound: "upstream" },
    { name: "gw-hs-rl", script: bundle, bindings: instantVars, outbound: "upstream", rateLimiter: true },
    {
      name: "floor",
      script: SAME_CALLS_WORKER,
      bindings: { CALLS: callsFor(calls, FAKE.vault, FAKE.neon) },
      outbound: "upstream",
    },
    { name: "empty", script: EMPTY_WORKER },
    { name: "gw-real", script: bundle, bindings: gatewayVars(stack) },
    { name: "proxy-vault", script: BARE_PROXY_WORKER, bindings: { TARGET: stack.vars.VAULT_ADDR! } },
    {
      name: "floor-real",
      script: SAME_CALLS_WORKER,
      bindings: { CALLS: callsFor(calls, stack.vars.VAULT_ADDR!, stack.vars.NEON_FETCH_ENDPOINT!) },
    },
  ];
  const h = await startWorkers(workers);
  try {
    const get = (name: string, token?: string): Target => ({
      name,
      expect: 200,
      request: () =>
        send(new URL(KEY_PATH, h.url(name)), token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });
    const rows: Row[] = [];
    const notes: string[] = [];

    // ── 1. instant upstreams
    const t1 = [get("empty"), get("floor"), get("gw-hs", member), get("gw-es", es.token), get("gw-hs-rl", member)];
    const s1 = new Map(
      [...(await timeInterleaved(t1, o.rounds, Math.min(300, o.rounds)))].map(([k, v]) => [k, summarize(v)]),
    );
    const floor = s1.get("floor")!;
    const own = (name: string) => ({ median: s1.get(name)!.median - floor.median, p95: s1.get(name)!.p95 - floor.p95 });
    const hsOwn = own("gw-hs");
    const esOwn = own("gw-es");
    rows.push(section("1. GET /vault/keys/:service, instant in-runtime upstreams (latency from Node, interleaved)"));
    rows.push(timedRow("empty Worker (into workerd and back)", s1.get("empty")!, floor));
    rows.push(timedRow("floor: same 3 upstream calls, no logic", floor, floor));
    rows.push(timedRow("gateway, HS256", s1.get("gw-hs")!, floor));
    rows.push(timedRow("gateway, ES256 (JWKS cached)", s1.get("gw-es")!, floor));
    rows.push(timedRow("gateway, HS256 + rate-limit binding", s1.get("gw-hs-rl")!, floor));
    rows.push({
      name: "own time HS256 = gateway − floor",
      n: String(floor.n),
      median: fmtUs(hsOwn.median),
      p95: fmtUs(hsOwn.p95),
      ratio: fmtRatio(s1.get("gw-hs")!.median / floor.median),
      aim: `≤ 50 µs median: ${verdict(hsOwn.median <= 50)}`,
    });
    rows.push({
      name: "own time ES256 = gateway − floor",
      n: String(floor.n),
      median: fmtUs(esOwn.median),
      p95: fmtUs(esOwn.p95),
      ratio: fmtRatio(s1.get("gw-es")!.median / floor.median),
      aim: "",
    });

    // Every gateway read really made its three calls, the waitUntil audit insert included.
    await send(new URL("/__bench/reset", h.url("upstream")));
    const checkN = 200;
    for (let i = 0; i < checkN; i++) await get("gw-hs", member).request();
    await new Promise((r) => setTimeout(r, 300));
    const counts = JSON.parse((await send(new URL("/__bench/counts", h.url("upstream")))).body) as Record<
      string,
      number
    >;
    notes.push(
      `upstream calls per gateway read (${checkN} HS256 reads): ` +
        Object.entries(counts)
          .map(([k, v]) => `${k} ${(v / checkN).toFixed(2)}`)
          .join(", "),
    );

    // workerd CPU per request, waitUntil work included (concurrency 4, counter read after it settles).
    const cpu = new Map<string, number>();
    for (const t of [get("empty"), get("floor"), get("gw-hs", member), get("gw-es", es.token)])
      cpu.set(t.name, await cpuPerRequest(t, o.cpuRequests, 4));
    rows.push(
      section(
        "1b. workerd CPU per request incl. waitUntil (all threads, /proc schedstat; includes the upstream Worker)",
      ),
    );
    const cpuRow = (name: string, label: string, aim = ""): Row => ({
      name: label,
      n: String(o.cpuRequests),
      median: fmtUs(cpu.get(name)!),
      p95: "",
      ratio: fmtRatio(cpu.get(name)! / cpu.get("floor")!),
      aim,
    });
    rows.push(cpuRow("empty", "CPU: empty Worker"));
    rows.push(cpuRow("floor", "CPU: floor (same calls)"));
    rows.push(cpuRow("gw-hs", "CPU: gateway HS256"));
    rows.push(cpuRow("gw-es", "CPU: gateway ES256"));
    rows.push({
      ...cpuRow("gw-hs", "own CPU HS256 = gateway − floor"),
      median: fmtUs(cpu.get("gw-hs")! - cpu.get("floor")!),
      aim: "(mean, not median)",
    });
    rows.push({
      ...cpuRow("gw-es", "own CPU ES256 = gateway − floor"),
      median: fmtUs(cpu.get("gw-es")! - cpu.get("floor")!),
    });

    // ── 2. end to end against the stand-ins
    const vaultDirect: Target = {
      name: "vault-direct",
      expect: 200,
      request: () => send(new URL(calls.vault.path, stack.vars.VAULT_ADDR), { headers: calls.vault.headers }),
    };
    const neonDirect: Target = {
      name: "neon-direct",
      expect: 200,
      request: () =>
        send(new URL(stack.vars.NEON_FETCH_ENDPOINT!), {
          method: "POST",
          headers: calls.select.headers,
          body: calls.select.body,
        }),
    };
    const proxyVault: Target = {
      name: "proxy-vault",
      expect: 200,
      request: () => send(new URL(calls.vault.path, h.url("proxy-vault")), { headers: calls.vault.headers }),
    };
    const t2 = [get("gw-real", member), vaultDirect, proxyVault, get("floor-real"), neonDirect];
    const s2 = new Map([...(await timeInterleaved(t2, o.e2eRounds, 50))].map(([k, v]) => [k, summarize(v)]));
    const direct = s2.get("vault-direct")!;
    const gw = s2.get("gw-real")!;
    rows.push(section("2. GET /vault/keys/:service end to end against the local stand-ins (interleaved)"));
    rows.push(timedRow("direct: Node → Vault stand-in metadata", direct, direct));
    rows.push(timedRow("direct: Node → Neon stand-in select", s2.get("neon-direct")!, direct));
    rows.push(timedRow("bare proxy Worker → Vault metadata", s2.get("proxy-vault")!, direct));
    rows.push(timedRow("floor Worker: same 3 calls to stand-ins", s2.get("floor-real")!, direct));
    rows.push(
      timedRow(
        "gateway → Vault + Neon (+ audit insert)",
        gw,
        direct,
        `≤ 1.25× direct Vault: ${verdict(gw.median / direct.median <= 1.25)}`,
      ),
    );
    rows.push({ ...timedRow("gateway vs bare proxy → Vault", gw, s2.get("proxy-vault")!), median: "", p95: "" });
    rows.push({ ...timedRow("gateway vs floor with the same calls", gw, s2.get("floor-real")!), median: "", p95: "" });
    notes.push(`worker log lines discarded: ${h.logLines()}`);
    return { rows, notes };
  } finally {
    await h.dispose();
  }
}
