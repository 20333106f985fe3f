import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Three projects: `worker` runs the Worker's tests inside workerd (the real
// runtime) against the local stand-ins, started once by test/global-setup.ts;
// `node` runs the stand-ins' contract tests and scripts in Node; `browser`
// drives the BYOK page in Debian's chromium against a stack of its own.
export default defineConfig({
  test: {
    // The Worker logs a JSON line per request; show logs of failing tests only.
    silent: "passed-only",
    projects: [
      {
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            // The plugin runs workerd verbosely by default: every refused subrequest (tests point Vault, Neon
            // and providers at closed ports on purpose) is then logged as an "uncaught exception … Network
            // connection lost" stack, though the Worker catches it. Real unhandled rejections still fail the run.
            verbose: false,
            // The shared audit send runs as in production, its window shortened: every call waits for its
            // events to be sent (waitOnExecutionContext), and thousands of calls would wait 10 ms each.
            miniflare: { bindings: { ...inject("stackVars"), AUDIT_SEND_WINDOW_MS: "1" } },
          })),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          globalSetup: ["test/global-setup.ts"],
          // Files share one Vault stand-in, and some seal it or inject faults: one file at a time.
          fileParallelism: false,
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "node",
          environment: "node",
          include: ["test/local-stack/**/*.test.ts", "test/scripts/**/*.test.ts", "test/docs/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "browser",
          environment: "node",
          include: ["test/browser/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
