/**
 * Section 8, connector syncs: a first sync of N WordPress posts through the
 * real sync Workflow (the bundle on workerd, Miniflare's Workflows engine, the
 * WordPress and LLM stand-ins, the Neon stand-in), in items/s beside the
 * embedding floor — the same embedding calls (same inputs, same batching, same
 * key, same stand-in) made directly from Node, one after another as the
 * Workflow makes them. Then a re-sync with nothing changed: its embedding calls
 * are counted at the stand-in (aim: none) and it is timed (aim: seconds).
 */
import { randomUUID } from "node:crypto";
import { neon, neonConfig } from "@neondatabase/serverless";
import { fingerprint } from "../local-stack/llm-provider/keys";
import type { LocalStack } from "../local-stack/stack";
import { DEV_WP_APP_PASSWORD, DEV_WP_USER } from "../local-stack/wordpress/server";
import { devToken } from "../scripts/token";
import { INPUTS_PER_CALL } from "../src/knowledge/chunking";
import { send, startWorkers } from "./miniflare";
import { section, verdict, type Row } from "./stats";

export interface ConnectorsOptions {
  posts: number;
}

/** The Workflow bindings of wrangler.toml, as Miniflare takes them. */
const WORKFLOWS = {
  workflows: {
    CONNECTOR_SYNC: { name: "connector-sync", className: "ConnectorSyncWorkflow" },
    KNOWLEDGE_INGEST: { name: "knowledge-ingest", className: "KnowledgeIngestWorkflow" },
  },
};
const EMBEDDING_MODEL = "text-embedding-3-small";
/** A re-sync that changes nothing should take seconds, not minutes. */
const RESYNC_AIM_SECONDS = 60;

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rate = (items: number, ms: number) => `${((items * 1000) / ms).toFixed(1)} items/s`;

export async function benchConnectors(
  bundle: string,
  stack: LocalStack,
  o: ConnectorsOptions,
): Promise<{ rows: Row[]; notes: string[] }> {
  const rows: Row[] = [section(`8. connector sync (WordPress → Workflow → knowledge), ${o.posts} posts`)];
  const notes: string[] = [];
  const h = await startWorkers([{ name: "gw-sync", script: bundle, bindings: stack.vars, extra: WORKFLOWS }]);
  try {
    const base = h.url("gw-sync");
    const tenant = randomUUID();
    const token = await devToken({ tenant, user: "bench-sync", roles: ["admin"], ttlSeconds: 7200 });
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const api = async (method: string, path: string, body?: unknown, expect = 200) => {
      const r = await send(new URL(path, base), { method, headers, body: body ? JSON.stringify(body) : undefined });
      if (r.status !== expect) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
      return JSON.parse(r.body);
    };
    // A key of its own, so the stand-in's calls of this section are told apart by its fingerprint.
    const apiKey = `sk-proj-benchsync${randomUUID().replaceAll("-", "")}`;
    const embedCalls = () =>
      stack.llm
        .calls()
        .filter((c) => c.keyFingerprint === fingerprint(apiKey) && c.path.endsWith("/embeddings") && c.status === 200)
        .length;
    await api("POST", "/vault/keys/openai", { service: "openai", api_key: apiKey }, 201);

    const site = await createSite(stack, o.posts);
    const connector = await api(
      "POST",
      "/connectors",
      {
        type: "wordpress",
        name: "Bench site",
        settings: { site_url: site, content_types: ["posts"] },
        credentials: { username: DEV_WP_USER, application_password: DEV_WP_APP_PASSWORD },
      },
      201,
    );
    const sync = async () => {
      const before = embedCalls();
      const start = performance.now();
      const { run_id } = await api("POST", `/connectors/${connector.id}/sync`, undefined, 202);
      for (;;) {
        const run = await api("GET", `/connectors/${connector.id}/runs/${run_id}`);
        if (run.status === "failed") throw new Error(`sync failed: ${JSON.stringify(run.error)}`);
        if (run.status === "succeeded") {
          return { ms: performance.now() - start, run, calls: embedCalls() - before };
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    const first = await sync();
    if (first.run.counts.added !== o.posts) throw new Error(`first sync added ${first.run.counts.added} of ${o.posts}`);

    // The floor: the chunks the sync embedded (read back from knowledge_base, not timed), in as many
    // calls of equal size as the sync made, to the same stand-in with the same key, one after another.
    neonConfig.fetchEndpoint = stack.vars.NEON_FETCH_ENDPOINT!;
    const chunks = (
      (await neon(stack.vars.DATABASE_URL!).query(
        "SELECT content FROM knowledge_base WHERE tenant_id = $1 ORDER BY document_id, chunk_index",
        [tenant],
      )) as Array<{ content: string }>
    ).map((r) => r.content);
    const perCall = Math.ceil(chunks.length / first.calls);
    if (perCall > INPUTS_PER_CALL) throw new Error(`${chunks.length} chunks cannot have been ${first.calls} calls`);
    const floorStart = performance.now();
    let floorCalls = 0;
    for (let i = 0; i < chunks.length; i += perCall) {
      const r = await send(new URL(`${stack.llm.openaiBaseUrl}/embeddings`), {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({ model: EMBEDDING_MODEL, input: chunks.slice(i, i + perCall) }),
      });
      if (r.status !== 200) throw new Error(`embeddings: ${r.status}`);
      floorCalls++;
    }
    const floorMs = performance.now() - floorStart;

    const again = await sync();

    rows.push({
      name: `embedding floor: the same ${floorCalls} embedding calls, direct`,
      n: "1",
      median: rate(o.posts, floorMs),
      p95: seconds(floorMs),
      ratio: "",
      aim: "",
    });
    rows.push({
      name: `first sync, ${o.posts} posts (POST /sync → run succeeded)`,
      n: "1",
      median: rate(o.posts, first.ms),
      p95: seconds(first.ms),
      ratio: `${(first.ms / floorMs).toFixed(1)}× floor time`,
      aim: "",
    });
    rows.push({
      name: "re-sync, nothing changed",
      n: "1",
      median: seconds(again.ms),
      p95: "",
      ratio: `${again.calls} embedding calls`,
      aim: `0 embedding calls: ${verdict(again.calls === 0)}; ≤ ${RESYNC_AIM_SECONDS} s: ${verdict(again.ms <= RESYNC_AIM_SECONDS * 1000)}`,
    });
    notes.push(
      `8: first sync ${first.calls} embedding calls counted at the stand-in for ${chunks.length} chunks (the floor made ${floorCalls}); run counts ${JSON.stringify(first.run.counts)}; the run's own duration ${first.run.duration_ms} ms. ` +
        `Re-sync: run counts ${JSON.stringify(again.run.counts)} (every id listed, only the newest second re-fetched and found unchanged). ` +
        "The median column is items/s (time in the p95 column); times include polling the run every 50 ms.",
    );
  } finally {
    await h.dispose();
  }
  return { rows, notes };
}

/** A WordPress site of its own on the stand-in with `posts` published posts; its URL. */
async function createSite(stack: LocalStack, posts: number): Promise<string> {
  const r = await send(new URL("/__standin/sites", stack.wordpress.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: `bench-${randomUUID().slice(0, 8)}`, posts, pages: 0, drafts: 0 }),
  });
  if (r.status !== 201) throw new Error(`creating site: ${r.status}`);
  return (JSON.parse(r.body) as { url: string }).url;
}
