// The CLI (`local-stack/vault/main.ts`): prints its URL, serves, and exits
// cleanly on SIGTERM.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { call } from "./vault-helpers";

const repo = resolve(__dirname, "../..");
const tsx = resolve(repo, "node_modules/.bin/tsx");

describe("vault stand-in CLI", () => {
  it("starts, prints the URL, answers, and closes on SIGTERM", async () => {
    const child = spawn(tsx, ["local-stack/vault/main.ts", "--port", "0", "--root-token", "cli-root"], {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((ok, fail) => {
        let out = "";
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (c: string) => {
          out += c;
          const line = out.split("\n")[0];
          if (out.includes("\n") && line) ok(line.trim());
        });
        child.once("exit", (code) => fail(new Error(`CLI exited early with ${code}`)));
      });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const w = await call(url, "POST", "/v1/secret/data/cli", { token: "cli-root", body: { data: { ok: 1 } } });
      expect(w.status).toBe(200);
      expect((await call(url, "GET", "/v1/secret/data/cli", { token: "wrong" })).status).toBe(403);

      child.kill("SIGTERM");
      const [code] = (await once(child, "exit")) as [number | null];
      expect(code).toBe(0);
      await expect(fetch(`${url}/v1/sys/health`)).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("refuses to start without a root token", async () => {
    const child = spawn(tsx, ["local-stack/vault/main.ts", "--port", "0"], {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, VAULT_STANDIN_ROOT_TOKEN: "" },
    });
    const [code] = (await once(child, "exit")) as [number | null];
    expect(code).toBe(2);
  });
});
