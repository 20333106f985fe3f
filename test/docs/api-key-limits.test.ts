import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { API_KEY_RATE_LIMITS } from "../../src/api-keys/rate-limit";

const wranglerToml = readFileSync("wrangler.toml", "utf8");

/** wrangler.toml's `[[ratelimits]]` entries: name, limit, period. */
const ratelimits = wranglerToml
  .split("[[ratelimits]]")
  .slice(1)
  .map((block) => ({
    name: /^name = "(.+)"$/m.exec(block)?.[1],
    limit: Number(/^\s*limit = (\d+)$/m.exec(block)?.[1]),
    period: Number(/^\s*period = (\d+)$/m.exec(block)?.[1]),
    namespace: /^namespace_id = "(\d+)"$/m.exec(block)?.[1],
  }));

describe("per-API-key rate limits (src/api-keys/rate-limit.ts) are wrangler.toml's bindings", () => {
  it.each(Object.entries(API_KEY_RATE_LIMITS))("%s per minute: %s", (perMinute, name) => {
    expect(ratelimits.find((r) => r.name === name)).toMatchObject({ limit: Number(perMinute), period: 60 });
  });

  it("each binding has a namespace of its own", () => {
    const namespaces = ratelimits.map((r) => r.namespace);
    expect(new Set(namespaces).size).toBe(namespaces.length);
  });
});
