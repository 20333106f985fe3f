/**
 * `npm run bench`: the gateway's speed and size, each figure beside a baseline
 * measured in the same process and run, printed as one table. Nothing here
 * asserts; aims are printed as met / MISSED. Only 127.0.0.1 is used.
 *
 *   npm run bench              full run (a few minutes on 2 cores)
 *   npm run bench -- --quick   fewer samples, for checking the bench itself
 *   npm run bench -- --only=v1,keys   only those sections (keys, knowledge, chat, audit, connectors,
 *                                     v1, ranking); the size section always runs (it builds the bundle)
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { startLocalStack } from "../local-stack/stack";
import { benchAudit } from "./audit";
import { benchChat } from "./chat";
import { benchConnectors } from "./connectors";
import { benchKeys } from "./keys";
import { benchKnowledge } from "./knowledge";
import { measureRanking, rankingTableRows } from "./knowledge-ranking";
import { measureSize } from "./size";
import { printTable, section, verdict, type Row } from "./stats";
import { benchV1 } from "./v1";

const root = process.cwd();
const quick = process.argv.includes("--quick");
const SECTIONS = ["keys", "knowledge", "chat", "audit", "connectors", "v1", "ranking"] as const;
const onlyArg = process.argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
const only = onlyArg ? onlyArg.split(",") : null;
for (const name of only ?? []) {
  if (!(SECTIONS as readonly string[]).includes(name))
    throw new Error(`--only: no section ${name} (${SECTIONS.join(", ")})`);
}
/** Whether a section runs: all of them unless --only names some. */
const wanted = (name: (typeof SECTIONS)[number]) => only === null || only.includes(name);
const version = (pkg: string) =>
  (JSON.parse(readFileSync(join(root, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;

function environment(): void {
  const cpu = cpus();
  console.log(`Brain Gateway bench${quick ? " (--quick: fewer samples)" : ""}`);
  console.log(
    `  node ${process.version} · workerd ${version("workerd")} · miniflare ${version("miniflare")} · wrangler ${version("wrangler")}`,
  );
  console.log(
    `  ${cpu.length} CPUs (${cpu[0]?.model.trim() ?? "?"}) · load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  if (loadavg()[0]! > cpu.length)
    console.log("  note: the machine is busier than it has CPUs; absolute times are inflated, same-run ratios less so");
  console.log(
    `  compatibility_date 2026-11-01, flags nodejs_compat; Workers run on workerd via Miniflare direct sockets\n`,
  );
}

const started = Date.now();
environment();
const rows: Row[] = [];
const notes: string[] = [];

// 3 first: it also builds the minified bundle every latency figure runs.
const size = await measureSize(root);
const bundle = readFileSync(size.bundlePath, "utf8");
const stack = await startLocalStack({ persist: false });
try {
  if (wanted("keys")) {
    const keys = await benchKeys(
      bundle,
      stack,
      quick ? { rounds: 300, e2eRounds: 60, cpuRequests: 300 } : { rounds: 2000, e2eRounds: 300, cpuRequests: 2000 },
    );
    rows.push(...keys.rows);
    notes.push(...keys.notes);
  }
  rows.push(section(`3. Worker size (wrangler ${size.wranglerVersion} deploy --dry-run --minify)`));
  rows.push({
    name: "Total Upload (minified)",
    n: "1",
    median: `${size.totalKiB.toFixed(2)} KiB`,
    p95: "",
    ratio: "",
    aim: "",
  });
  rows.push({
    name: "gzip",
    n: "1",
    median: `${size.gzipKiB.toFixed(2)} KiB`,
    p95: "",
    ratio: `${(size.gzipKiB / 120).toFixed(2)}× aim`,
    aim: `≤ 120 KiB gzip: ${verdict(size.gzipKiB <= 120)}`,
  });

  if (wanted("knowledge")) {
    const knowledge = await benchKnowledge(
      bundle,
      stack,
      quick ? { chunks: 2000, queries: 30 } : { chunks: 10_000, queries: 100 },
    );
    rows.push(...knowledge.rows);
    notes.push(...knowledge.notes);
  }
  if (wanted("chat")) {
    const chat = await benchChat(bundle, stack, quick ? { rounds: 10 } : { rounds: 40 });
    rows.push(...chat.rows);
    notes.push(...chat.notes);
  }
  if (wanted("audit")) {
    const audit = await benchAudit(bundle, stack, quick ? { rounds: 100, rows: 1000 } : { rounds: 400, rows: 5000 });
    rows.push(...audit.rows);
    notes.push(...audit.notes);
  }
  if (wanted("connectors")) {
    const connectors = await benchConnectors(bundle, stack, { posts: quick ? 200 : 1000 });
    rows.push(...connectors.rows);
    notes.push(...connectors.notes);
  }
  if (wanted("v1")) {
    const v1 = await benchV1(
      bundle,
      stack,
      root,
      quick
        ? {
            rounds: 100,
            concurrentRequests: 100,
            ttftRounds: 20,
            productionRounds: 10,
            sourceMapPath: `${size.bundlePath}.map`,
          }
        : {
            rounds: 500,
            concurrentRequests: 500,
            ttftRounds: 100,
            productionRounds: 20,
            sourceMapPath: `${size.bundlePath}.map`,
          },
    );
    rows.push(...v1.rows);
    notes.push(...v1.notes);
  }
  if (wanted("ranking")) {
    // On its own in-memory Neon stand-in (the labelled set never mixes with the 10k chunks above).
    rows.push(section("4c. ranking quality: vector only vs hybrid (RRF)"));
    rows.push(...rankingTableRows(await measureRanking()));
  }
} finally {
  await stack.close();
}

printTable(rows);
console.log("\nWhere the minified bytes go (esbuild metafile of the same wrangler build):");
for (const p of size.packages) {
  const share = (100 * p.bytes) / size.outputBytes;
  console.log(
    `  ${p.name.padEnd(34)} ${(p.bytes / 1024).toFixed(1).padStart(7)} KiB  ${share.toFixed(1).padStart(5)}%`,
  );
}
console.log(
  `  ${"(bundler glue)".padEnd(34)} ${((size.outputBytes - size.packages.reduce((s, p) => s + p.bytes, 0)) / 1024).toFixed(1).padStart(7)} KiB`,
);
console.log("\nNotes:");
for (const n of notes) console.log(`  - ${n}`);
console.log(`\nbench took ${((Date.now() - started) / 1000).toFixed(0)} s`);
