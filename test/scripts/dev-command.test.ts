import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

// `npm run dev` as a user runs it, on free ports of its own so a developer's running stack
// (or another checkout's test run) is untouched.
async function freePort(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return String(port);
}
const ports = {
  PORT: await freePort(),
  LOCAL_NEON_PORT: await freePort(),
  LOCAL_VAULT_PORT: await freePort(),
  LOCAL_LLM_PORT: await freePort(),
  LOCAL_WORDPRESS_PORT: await freePort(),
  LOCAL_SHOPIFY_PORT: await freePort(),
  LOCAL_INSPECTOR_PORT: await freePort(),
};
const dataDir = mkdtempSync(join(tmpdir(), "brain-dev-"));
const base = `http://127.0.0.1:${ports.PORT}`;

async function waitFor(check: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

const listening = (url: string) =>
  fetch(url).then(
    () => true,
    () => false,
  );

describe("npm run dev", () => {
  let dev: ChildProcess;
  let output = "";
  afterAll(() => {
    if (dev?.exitCode === null) process.kill(-dev.pid!, "SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("becomes ready (/ready 200), answers the README's curl flow, names Vault when it is sealed, and leaves nothing behind on Ctrl-C", async () => {
    dev = spawn("npm", ["run", "dev"], {
      env: { ...process.env, ...ports, LOCAL_STACK_DIR: dataDir, CI: "true" },
      stdio: "pipe",
      detached: true,
    });
    dev.stdout!.on("data", (d) => (output += d));
    dev.stderr!.on("data", (d) => (output += d));

    // How fast it starts is the bench's business, not a test's: a loaded CI machine may take longer.
    const ready = await waitFor(async () => (await fetch(`${base}/ready`)).status === 200, 90_000);
    expect(ready, output).toBe(true);
    expect(await waitFor(async () => output.includes(`ready           ${base}/ready`), 5_000), output).toBe(true);

    // The README's commands: a token from `npm run token`, then store, read and list a key.
    const tenant = "3f2b8c1e-8a4d-4c1e-9f6a-2b7d9e0c1a55";
    const token = execFileSync("npm", ["run", "-s", "token", "--", "--tenant", tenant, "--roles", "admin"], {
      encoding: "utf8",
    }).trim();
    const auth = { authorization: `Bearer ${token}` };
    const stored = await fetch(`${base}/vault/keys/openai`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({
        service: "openai",
        api_key: "sk-proj-exampleexampleexample1234",
        metadata: { label: "prod" },
      }),
    });
    expect(stored.status).toBe(201);
    expect(await stored.json()).toMatchObject({
      status: "success",
      service: "openai",
      version: 1,
      key_hint: "****1234",
    });
    const read = await fetch(`${base}/vault/keys/openai`, { headers: auth });
    expect(await read.json()).toMatchObject({
      service: "openai",
      has_key: true,
      version: 1,
      metadata: { label: "prod" },
    });
    const list = await fetch(`${base}/vault/keys`, { headers: auth });
    expect((await list.json()).keys).toEqual(["openai"]);
    // The Worker's own log lines show, readably, and without the key or the token.
    expect(
      await waitFor(async () => /INFO +request POST \/vault\/keys\/openai 201 \d+ms requestId=/.test(output), 5_000),
      output,
    ).toBe(true);
    expect(output).not.toContain("sk-proj-exampleexampleexample1234");
    expect(output).not.toContain(token);

    await fetch(`http://127.0.0.1:${ports.LOCAL_VAULT_PORT}/__standin/seal`, { method: "POST" });
    const sealed = await fetch(`${base}/ready`);
    expect(sealed.status).toBe(503);
    expect(await sealed.json()).toMatchObject({ checks: { vault: "failed", database: "ok" } });

    // Ctrl-C: the terminal signals the whole foreground process group.
    const exited = new Promise<boolean>((r) => dev.once("exit", () => r(true)));
    process.kill(-dev.pid!, "SIGINT");
    expect(await exited).toBe(true);
    const freed = await waitFor(async () => {
      const open = await Promise.all(Object.values(ports).map((p) => listening(`http://127.0.0.1:${p}/`)));
      return open.every((o) => !o);
    }, 10_000);
    expect(freed, output).toBe(true);
    expect(await waitFor(async () => output.includes("[dev] stopped"), 10_000), output).toBe(true);
  }, 180_000);
});
