/**
 * Starting and stopping the stand-in: data kept in `dataDir` survives a
 * restart, `close()` really frees the port, and the CLI prints its URL and
 * exits cleanly on SIGTERM. (Each case needs its own start, by design.)
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNeonHttp } from "../../local-stack/neon-http/server.js";

const HEADERS = {
  "Neon-Connection-String": "postgresql://user:pass@ep-local.localtest.me/neondb",
  "Neon-Raw-Text-Output": "true",
  "Neon-Array-Mode": "true",
};

async function query(url: string, text: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: "POST", headers: HEADERS, body: JSON.stringify({ query: text }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "neon-http-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("neon-http lifecycle", () => {
  it("keeps data in dataDir across a restart and frees the port on close", async () => {
    const dataDir = join(dir, "pglite");
    const first = await startNeonHttp({ dataDir });
    expect(first.url).toBe(`http://127.0.0.1:${first.port}/sql`);
    await query(first.url, "CREATE EXTENSION IF NOT EXISTS vector");
    await query(first.url, "CREATE TABLE kept (v vector(2))");
    expect((await query(first.url, "INSERT INTO kept VALUES ('[1,2]')")).status).toBe(200);
    await first.close();
    await expect(fetch(first.url, { method: "POST", headers: HEADERS, body: "{}" })).rejects.toThrow();

    const second = await startNeonHttp({ dataDir, port: first.port });
    try {
      expect(second.port).toBe(first.port);
      expect((await query(second.url, "SELECT v FROM kept")).body.rows).toEqual([["[1,2]"]]);
    } finally {
      await second.close();
    }
  });

  it("runs from the CLI, prints its URL and exits 0 on SIGTERM", async () => {
    const child = spawn(
      join(process.cwd(), "node_modules/.bin/tsx"),
      ["local-stack/neon-http/main.ts", "--port", "0"],
      { cwd: process.cwd(), stdio: ["ignore", "pipe", "pipe"] },
    );
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /listening on (http:\/\/\S+\/sql)/.exec(out);
          if (match?.[1]) resolve(match[1]);
        });
        child.once("exit", (code) => reject(new Error(`CLI exited early (${code}): ${out}`)));
      });
      expect((await query(url, "SELECT 40 + 2")).body.rows).toEqual([["42"]]);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
