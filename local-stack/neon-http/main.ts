/**
 * Runs the Neon SQL-over-HTTP stand-in on its own:
 *   tsx local-stack/neon-http/main.ts [--port 4444] [--data-dir .data/pglite] [--postgres-url postgres://…]
 * Prints the URL to give `neonConfig.fetchEndpoint` and stops cleanly on SIGINT/SIGTERM.
 */
import { parseArgs } from "node:util";
import { startNeonHttp } from "./server.js";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    host: { type: "string" },
    "data-dir": { type: "string" },
    "postgres-url": { type: "string" },
  },
});

const port = values.port === undefined ? undefined : Number(values.port);
if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
  console.error(`invalid --port: ${values.port}`);
  process.exit(2);
}

const server = await startNeonHttp({
  port,
  host: values.host,
  dataDir: values["data-dir"],
  postgresUrl: values["postgres-url"],
});
const backendName = values["postgres-url"]
  ? "Postgres"
  : values["data-dir"]
    ? `PGlite in ${values["data-dir"]}`
    : "PGlite in memory";
console.log(`neon-http stand-in (${backendName}) listening on ${server.url}`);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: shutting down`);
  try {
    await server.close();
    process.exit(0);
  } catch (err) {
    console.error("shutdown failed:", err);
    process.exit(1);
  }
}
process.on("SIGINT", () => void stop("SIGINT"));
process.on("SIGTERM", () => void stop("SIGTERM"));
