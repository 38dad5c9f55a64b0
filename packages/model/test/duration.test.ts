import { describe, expect, it } from "vitest";
import { parseDuration } from "../src/index.js";

describe("parseDuration", () => {
  it.each([
    ["90s", 90_000],
    ["10m", 600_000],
    ["1h30m", 5_400_000],
    ["1.5h", 5_400_000],
    ["250ms", 250],
    ["1m30s500ms", 90_500],
    ["0s", 0],
  ])("%s = %i ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "10", "10 m", "-5m", "1d", "m", "10M", "1h 30m", "PT10M"])("rejects %j", (text) => {
    expect(parseDuration(text)).toBeNull();
  });
});
