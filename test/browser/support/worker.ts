/**
 * Runs the Worker on workerd through wrangler's programmatic `unstable_dev`:
 * the same bundling, wrangler.toml settings and runtime as `npm run dev`, on
 * 127.0.0.1 and a free port, with the given vars.
 */
import { unstable_dev } from "wrangler";

export interface RunningWorker {
  url: string;
  close(): Promise<void>;
}

/** Starts the Worker with `vars` layered over wrangler.toml's. */
export async function startWorker(vars: Record<string, string>): Promise<RunningWorker> {
  process.env.WRANGLER_SEND_METRICS = "false";
  const worker = await unstable_dev("src/index.ts", {
    config: "wrangler.toml",
    ip: "127.0.0.1",
    port: 0,
    vars,
    persist: false,
    logLevel: "warn",
    experimental: {
      disableExperimentalWarning: true,
      disableDevRegistry: true,
      watch: false,
      showInteractiveDevSession: false,
    },
  });
  return { url: `http://${worker.address}:${worker.port}`, close: () => worker.stop() };
}
