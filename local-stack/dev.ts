/**
 * `npm run dev`: the whole stack on a laptop. Starts the stand-ins (unless
 * VAULT_ADDR / DATABASE_URL point at real services), applies migrations, runs
 * `wrangler dev`, waits for /ready, prints the URLs. Ctrl-C stops everything.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEV, latencyFromEnv } from "./settings";
import { startLocalStack } from "./stack";
import { prettyWorkerLogs } from "./worker-log";

const log = (line: string) => console.log(`[dev] ${line}`);
const externalVault = !!process.env.VAULT_ADDR;
const stack = await startLocalStack({
  persist: true,
  externalVault,
  externalDatabaseUrl: process.env.DATABASE_URL,
  postgresUrl: process.env.LOCAL_POSTGRES_URL,
  latency: latencyFromEnv(),
  log,
});

const vars: Record<string, string> = { ...stack.vars, DEV_LOGIN: "true" };
if (externalVault) {
  for (const k of [
    "VAULT_ADDR",
    "VAULT_TOKEN",
    "VAULT_ROLE_ID",
    "VAULT_SECRET_ID",
    "VAULT_NAMESPACE",
    "VAULT_KV_MOUNT",
  ]) {
    if (process.env[k]) vars[k] = process.env[k]!;
  }
}
// Settings go to wrangler through an env file of our own (git-ignored), leaving any .dev.vars alone.
const envFile = join(DEV.dataDir, "worker.env");
writeFileSync(
  envFile,
  `${Object.entries(vars)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join("\n")}\n`,
  { mode: 0o600 },
);

const port = DEV.ports.worker;
const wrangler = spawn(
  "wrangler",
  [
    "dev",
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
    "--inspector-port",
    String(DEV.ports.inspector),
    "--env-file",
    envFile,
    "--show-interactive-dev-session=false",
    // `log` shows the Worker's console lines (request, audit.write_failed, …) without wrangler's
    // own per-request info lines, which would repeat the Worker's `request` line.
    "--log-level",
    "log",
  ],
  // No network here: skip the Request.cf download and telemetry.
  {
    stdio: ["inherit", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  },
);
prettyWorkerLogs(wrangler.stdout!, process.stdout);
prettyWorkerLogs(wrangler.stderr!, process.stderr);

let stopping = false;
let cron: NodeJS.Timeout | undefined;
async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  if (cron) clearInterval(cron);
  log("stopping…");
  if (wrangler.exitCode === null) {
    wrangler.kill("SIGTERM");
    const killer = setTimeout(() => wrangler.kill("SIGKILL"), 5000);
    await new Promise((r) => wrangler.once("exit", r));
    clearTimeout(killer);
  }
  await stack.close();
  log("stopped");
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));
process.on("SIGHUP", () => void stop(0));
wrangler.on("exit", (code) => void stop(code ?? 1));

const base = `http://127.0.0.1:${port}`;
const deadline = Date.now() + 60_000;
while (!stopping && Date.now() < deadline) {
  const ok = await fetch(`${base}/ready`).then(
    (r) => r.status === 200,
    () => false,
  );
  if (ok) {
    log(`ready           ${base}/ready`);
    log(`API reference   ${base}/docs   (OpenAPI: ${base}/openapi.json)`);
    log(`BYOK page       ${base}/byok`);
    log(`token           npm run token -- --tenant <uuid> --roles admin`);
    log("Ctrl-C stops the Worker and every stand-in.");
    // wrangler dev does not fire Cron Triggers by itself; fire wrangler.toml's (*/5 * * * *) the way
    // it offers, so scheduled connector syncs run locally as they would on Cloudflare.
    cron = setInterval(() => {
      if (new Date().getUTCMinutes() % 5 !== 0) return;
      fetch(`${base}/cdn-cgi/local/scheduled?cron=${encodeURIComponent("*/5 * * * *")}`).then(
        (r) => r.body?.cancel(),
        () => {},
      );
    }, 60_000);
    break;
  }
  await new Promise((r) => setTimeout(r, 500));
}
