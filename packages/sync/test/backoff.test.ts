import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { backoffDelay } from "../src/index.js";

describe("backoffDelay", () => {
  it.each([
    // attempt, random, expected (initial 500, factor 2, cap 30 000)
    [1, 0, 250],
    [1, 1, 500],
    [2, 0.5, 750],
    [3, 1, 2000],
    [6, 1, 16_000],
    [7, 1, 30_000],
    [7, 0, 15_000],
    [50, 1, 30_000],
    [10_000, 0.5, 22_500],
  ])("attempt %i with jitter %d waits %i ms", (attempt, random, expected) => {
    expect(backoffDelay(attempt, {}, () => random)).toBe(expected);
  });

  it("honours custom initial, factor and cap", () => {
    expect(backoffDelay(1, { initialMs: 10, maxMs: 100, factor: 3 }, () => 1)).toBe(10);
    expect(backoffDelay(3, { initialMs: 10, maxMs: 100, factor: 3 }, () => 1)).toBe(90);
    expect(backoffDelay(4, { initialMs: 10, maxMs: 100, factor: 3 }, () => 1)).toBe(100);
  });

  it("stays within half the capped base and the capped base, for any attempt and jitter", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.double({ min: 0, max: 1, noNaN: true }), (attempt, r) => {
        const base = Math.min(30_000, 500 * 2 ** (attempt - 1));
        const d = backoffDelay(attempt, {}, () => r);
        return d >= Math.floor(base / 2) && d <= base;
      }),
    );
  });

  it("spreads simultaneous retries of many clusters instead of a storm", () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const delays = new Set(Array.from({ length: 100 }, () => backoffDelay(5, {}, random)));
    expect(delays.size).toBeGreaterThan(50);
  });
});
