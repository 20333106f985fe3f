/**
 * The stand-ins' latency settings (local-stack/settings.ts): Vault and Neon delay every request,
 * the LLM provider holds its answer for the time to first token, and the env settings pick a
 * profile with overrides. Only lower bounds are asserted (a loaded machine is only ever slower);
 * how fast the gateway is under these settings is the bench's business.
 */
import http from "node:http";
import { neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLlmProvider, type LlmProviderStandIn } from "../../local-stack/llm-provider/server";
import { startNeonHttp, type NeonHttpServer } from "../../local-stack/neon-http/server.js";
import { LATENCY_PROFILES, latencyFromEnv } from "../../local-stack/settings";
import { startVault, type VaultStandIn } from "../../local-stack/vault/server";

const MS = 150;
const KEY = "sk-latency-0123456789abcdefghij";

/** ms from sending until the status line, and until the body holds `until` (or ends). */
function timed(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string },
  until?: RegExp,
): Promise<{ status: number; headMs: number; bodyMs: number; body: string }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.request(url, { method: init.method ?? "GET", headers: init.headers, agent: false }, (res) => {
      const headMs = performance.now() - start;
      let body = "";
      let done = false;
      const finish = () => {
        if (done) return;
        done = true;
        resolve({ status: res.statusCode ?? 0, headMs, bodyMs: performance.now() - start, body });
      };
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        body += c;
        if (until?.test(body)) finish();
      });
      res.on("end", finish);
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

describe("latency settings from the environment", () => {
  it("loopback by default; a profile by name; each part overridable", () => {
    expect(latencyFromEnv({})).toEqual(LATENCY_PROFILES.loopback);
    expect(latencyFromEnv({ LOCAL_LATENCY_PROFILE: "production-shaped" })).toEqual({
      vaultMs: 40,
      neonMs: 5,
      llmFirstTokenMs: 300,
      llmTokenDelayMs: 5,
    });
    expect(
      latencyFromEnv({
        LOCAL_LATENCY_PROFILE: "production-shaped",
        LOCAL_VAULT_LATENCY_MS: "80",
        LOCAL_LLM_TOKEN_DELAY_MS: "0",
      }),
    ).toMatchObject({ vaultMs: 80, neonMs: 5, llmFirstTokenMs: 300, llmTokenDelayMs: 0 });
  });

  it("an unknown profile or a bad number is refused, naming the setting", () => {
    expect(() => latencyFromEnv({ LOCAL_LATENCY_PROFILE: "mars" })).toThrow(
      /LOCAL_LATENCY_PROFILE .*production-shaped/,
    );
    expect(() => latencyFromEnv({ LOCAL_NEON_LATENCY_MS: "-1" })).toThrow(/LOCAL_NEON_LATENCY_MS/);
    expect(() => latencyFromEnv({ LOCAL_LLM_FIRST_TOKEN_MS: "soon" })).toThrow(/LOCAL_LLM_FIRST_TOKEN_MS/);
  });
});

describe("Vault stand-in latency", () => {
  let vault: VaultStandIn;
  beforeAll(async () => {
    vault = await startVault({ rootToken: "latency-root", latencyMs: MS });
  });
  afterAll(async () => {
    await vault?.close();
  });

  it("every /v1 request waits the configured time; a fault's latency adds to it; clearing the fault keeps it", async () => {
    const health = () => timed(`${vault.url}/v1/sys/health`, {});
    const first = await health();
    expect(first.status).toBe(200);
    expect(first.headMs).toBeGreaterThanOrEqual(MS - 1);

    vault.setFaults({ latencyMs: MS, count: 1 });
    expect((await health()).headMs).toBeGreaterThanOrEqual(2 * MS - 1);
    vault.clearFaults();
    expect((await health()).headMs).toBeGreaterThanOrEqual(MS - 1);
  });

  it("setLatency changes it while running", async () => {
    vault.setLatency(2 * MS);
    expect((await timed(`${vault.url}/v1/sys/health`, {})).headMs).toBeGreaterThanOrEqual(2 * MS - 1);
    vault.setLatency(MS);
    expect(() => vault.setLatency(-5)).toThrow(/non-negative/);
  });
});

describe("Neon stand-in latency", () => {
  let server: NeonHttpServer;
  beforeAll(async () => {
    server = await startNeonHttp({ latencyMs: MS });
    neonConfig.fetchEndpoint = server.url;
  });
  afterAll(async () => {
    await server?.close();
  });

  it("every SQL request waits the configured time, through the faults' delay; a fault adds to it and DELETE keeps it", async () => {
    const sql = neon("postgresql://user:pass@ep-local.localtest.me/neondb");
    const query = async () => {
      const start = performance.now();
      expect(await sql.query("SELECT 1 AS one")).toEqual([{ one: 1 }]);
      return performance.now() - start;
    };
    expect(await query()).toBeGreaterThanOrEqual(MS - 1);
    const put = await fetch(new URL("/__standin/faults", server.url), {
      method: "PUT",
      body: JSON.stringify({ latencyMs: MS, count: 1 }),
    });
    expect(put.status).toBe(204);
    expect(await query()).toBeGreaterThanOrEqual(2 * MS - 1);
    await fetch(new URL("/__standin/faults", server.url), { method: "DELETE" });
    expect(await query()).toBeGreaterThanOrEqual(MS - 1);
  });
});

describe("LLM provider stand-in: time to first token", () => {
  let llm: LlmProviderStandIn;
  beforeAll(async () => {
    llm = await startLlmProvider({ firstTokenMs: MS, tokenDelayMs: 0 });
  });
  afterAll(async () => {
    await llm?.close();
  });
  const chat = (stream: boolean) =>
    timed(
      `${llm.openaiBaseUrl}/chat/completions`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-4o-mini", stream, messages: [{ role: "user", content: "hello there" }] }),
      },
      stream ? /"content":"[^"]/ : undefined,
    );

  it("nothing is sent before the first token, streamed or not", async () => {
    const streamed = await chat(true);
    expect(streamed.status).toBe(200);
    expect(streamed.headMs).toBeGreaterThanOrEqual(MS - 1);
    expect(streamed.body).toContain('"content":"Echo:"');
    const whole = await chat(false);
    expect(whole.status).toBe(200);
    expect(whole.headMs).toBeGreaterThanOrEqual(MS - 1);
    expect(JSON.parse(whole.body).choices[0].message.content).toBe("Echo: hello there");
  });

  it("Anthropic's stream waits too; pieces after the first come every tokenDelayMs", async () => {
    llm.setLatency({ firstTokenMs: MS, tokenDelayMs: MS });
    const res = await timed(
      `${llm.anthropicBaseUrl}/v1/messages`,
      {
        method: "POST",
        headers: {
          "x-api-key": "sk-ant-latency-0123456789abcdef",
          "anthropic-version": "2023-06-01",
          "content-type": "application/json",
        },
        body: JSON.stringify({
          model: "claude-sonnet-4-5",
          max_tokens: 50,
          stream: true,
          messages: [{ role: "user", content: "hello there" }],
        }),
      },
      /message_stop/,
    );
    expect(res.status).toBe(200);
    expect(res.headMs).toBeGreaterThanOrEqual(MS - 1);
    // "Echo: hello there" is three pieces: the first with the first token, two more MS apart, then the stop after MS.
    expect(res.bodyMs).toBeGreaterThanOrEqual(4 * MS - 1);
    llm.setLatency({ firstTokenMs: MS, tokenDelayMs: 0 });
    expect(() => llm.setLatency({ firstTokenMs: Number.NaN })).toThrow(/firstTokenMs/);
  });
});
