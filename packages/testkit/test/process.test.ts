import { describe, expect, it } from "vitest";
import { startNats } from "../src/index.js";

const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("ManagedProcess", () => {
  it("leaves no timer behind once a stopped server has exited, so the caller can exit at once", async () => {
    await using nats = await startNats({ jetstream: false });
    const before = timers();
    await nats.stop();
    expect(nats.nodes[0]!.process.running).toBe(false);
    expect(timers()).toBeLessThanOrEqual(before);
  });
});
