import { describe, expect, it } from "vitest";
import { IdleTimer } from "../../src/llm/http";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("IdleTimer (the provider calls' idle timeout)", () => {
  it("a stream that keeps sending outlives the timeout; one that stalls for it is aborted", async () => {
    const timer = new IdleTimer(200);
    // 600 ms of activity, a touch every 50 ms: three times the timeout in all, never idle for it.
    for (let i = 0; i < 12; i++) {
      await sleep(50);
      timer.touch();
    }
    expect(timer.timedOut).toBe(false);
    expect(timer.controller.signal.aborted).toBe(false);
    await sleep(320);
    expect(timer.timedOut).toBe(true);
    expect(timer.controller.signal.aborted).toBe(true);
  });

  it("cleared, it never fires", async () => {
    const timer = new IdleTimer(50);
    timer.clear();
    await sleep(120);
    expect(timer.controller.signal.aborted).toBe(false);
  });
});
