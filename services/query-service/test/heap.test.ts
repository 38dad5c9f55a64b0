import { describe, expect, it } from "vitest";
import { collectGarbage } from "../src/heap.js";

describe("collectGarbage", () => {
  it("frees unreachable objects at once, without --expose-gc on the command line", () => {
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    let garbage: unknown[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i, text: `item-${i}` }));
    expect(process.memoryUsage().heapUsed - before).toBeGreaterThan(8 * 2 ** 20);
    garbage = undefined;
    const ms = collectGarbage();
    expect(garbage).toBeUndefined();
    expect(ms).toBeGreaterThanOrEqual(0);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(2 * 2 ** 20);
  });
});
