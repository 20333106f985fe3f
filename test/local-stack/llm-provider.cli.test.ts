import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));

describe("llm-provider CLI", () => {
  it("prints its base URLs, serves, and exits cleanly on SIGTERM", async () => {
    const child = spawn(`${root}node_modules/.bin/tsx`, ["local-stack/llm-provider/main.ts", "--port", "0"], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    child.stdout.setEncoding("utf8");
    const base = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk: string) => {
        stdout += chunk;
        const match = /ANTHROPIC base URL:\s+(\S+)/.exec(stdout);
        if (match?.[1]) resolve(match[1]);
      });
      child.once("exit", (code) => reject(new Error(`exited early with ${code}: ${stdout}`)));
    });
    expect(stdout).toMatch(/OPENAI base URL:\s+http:\/\/127\.0\.0\.1:\d+\/openai\/v1/);

    const res = await fetch(`${base}/v1/messages`, { method: "POST", body: "{}" });
    expect(res.status).toBe(401);

    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const [code] = await exited;
    expect(code).toBe(0);
  });
});
