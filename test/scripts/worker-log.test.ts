import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/lib/logger";
import { formatWorkerLine, prettyWorkerLogs } from "../../local-stack/worker-log";

/** What the Worker's logger writes, captured. */
function lines(write: (log: ReturnType<typeof createLogger>) => void): string[] {
  const out: string[] = [];
  write(createLogger({ requestId: "req-1" }, (l) => out.push(l)));
  return out;
}

describe("npm run dev: the Worker's log lines, readable", () => {
  it("a request line reads as a sentence, with the request id", () => {
    const [line] = lines((log) =>
      log.info("request", { method: "POST", path: "/vault/keys/openai", status: 201, ms: 12 }),
    );
    expect(formatWorkerLine(line!)).toMatch(
      /^\d\d:\d\d:\d\d INFO {2}request POST \/vault\/keys\/openai 201 12ms requestId=req-1$/,
    );
  });

  it("audit.write_failed shows its fields, with secrets already redacted by the logger", () => {
    const [line] = lines((log) =>
      log.error("audit.write_failed", { action: "key.store", reason: "db down", api_key: "sk-proj-secret0123456789" }),
    );
    const shown = formatWorkerLine(line!)!;
    expect(shown).toContain('ERROR audit.write_failed requestId=req-1 action=key.store reason="db down"');
    expect(shown).toContain("api_key=[redacted]");
    expect(shown).not.toContain("sk-proj-secret");
  });

  it("leaves other lines alone, drops wrangler's duplicate request lines", async () => {
    expect(formatWorkerLine("[wrangler:info] Ready on http://127.0.0.1:8787")).toBeNull();
    expect(formatWorkerLine('{"not":"a log line"}')).toBeNull();
    const from = new PassThrough();
    const to = new PassThrough();
    let out = "";
    to.on("data", (d) => (out += d));
    prettyWorkerLogs(from, to);
    from.end(
      [
        "[wrangler:info] Ready on http://127.0.0.1:8787",
        ...lines((log) => log.warn("provider.failed", { provider: "openai" })),
        "[wrangler:info] GET /ready 200 OK (3ms)",
      ].join("\n"),
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(out.split("\n")).toEqual([
      "[wrangler:info] Ready on http://127.0.0.1:8787",
      expect.stringMatching(/^\d\d:\d\d:\d\d WARN {2}provider.failed requestId=req-1 provider=openai$/),
      "",
    ]);
  });
});
