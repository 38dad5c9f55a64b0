/**
 * Parse errors: the caret excerpt for the CLI, the limits that guard against hostile input, and
 * the error classes' shape.
 */
import { describe, expect, it } from "vitest";
import {
  formatSelectorError,
  parseSelector,
  SELECTOR_LIMITS,
  SelectorBuildError,
  SelectorParseError,
  validateSelector,
} from "../src/index.js";

function parseError(text: string, limits?: Parameters<typeof parseSelector>[1]): SelectorParseError {
  try {
    parseSelector(text, limits);
  } catch (err) {
    if (err instanceof SelectorParseError) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe("formatSelectorError", () => {
  it.each([
    ['foo == "bar" &', 'foo == "bar" &\n             ^\nexpected &&'],
    ["b == b", "b == b\n     ^\nexpected string"],
    ["b", "b\n ^\nunexpected end of string looking for op"],
    ["%", "%\n^\nunexpected token"],
    // tabs show as one space, so the caret still lines up
    ["\ta\tb", ' a b\n   ^\nexpected operator after label "a"'],
    // a line break is shown as a visible mark on the same line
    ['a == "x"\n', 'a == "x"↵\n        ^\nunexpected token'],
    // an astral character takes one column
    ["a == '😀' %", "a == '😀' %\n         ^\nunexpected token"],
  ])("formats %j with a caret under the position", (text, expected) => {
    expect(formatSelectorError(parseError(text))).toBe(expected);
  });

  it("shows a window around the position of a long selector", () => {
    const text = `${"a == 'x' && ".repeat(20)}b == c${" && has(z)".repeat(20)}`;
    const err = parseError(text);
    const [excerpt, caret, message] = formatSelectorError(err, { width: 40 }).split("\n");
    expect(message).toBe("expected string");
    expect(excerpt?.startsWith("…")).toBe(true);
    expect(excerpt?.endsWith("…")).toBe(true);
    expect(excerpt?.length).toBe(42);
    // the caret points at the offending "c"
    expect(excerpt?.[caret?.indexOf("^") ?? -1]).toBe("c");
  });

  it("exposes the two-line excerpt on the error", () => {
    expect(parseError("a b").excerpt).toBe("a b\n  ^");
  });
});

describe("input limits", () => {
  it("rejects text longer than maxLength at the first character past the limit", () => {
    const err = parseError(`has(a)${" ".repeat(100)}`, { limits: { maxLength: 50 } });
    expect(err.message).toBe("selector too long: 106 characters (limit 50)");
    expect(err.position).toBe(50);
  });

  it("rejects a selector over the default length cap without scanning it", () => {
    const text = "x".repeat(SELECTOR_LIMITS.maxLength + 1);
    expect(() => validateSelector(text)).toThrow(/^selector too long/);
  });

  it("rejects more than maxTokens tokens at the first token past the limit", () => {
    const err = parseError("has(a) && has(b) && has(c)", { limits: { maxTokens: 3 } });
    expect(err.message).toBe("selector has too many tokens (limit 3)");
    expect(err.position).toBe(17);
  });

  it("accepts exactly maxTokens tokens", () => {
    expect(parseSelector("has(a) && has(b)", { limits: { maxTokens: 3 } }).toString()).toBe("(has(a) && has(b))");
  });

  it("rejects nesting deeper than maxDepth, counting parentheses and negations", () => {
    expect(parseSelector("((!has(a)))", { limits: { maxDepth: 3 } }).toString()).toBe("!has(a)");
    const err = parseError("((!!has(a)))", { limits: { maxDepth: 3 } });
    expect(err.message).toBe("selector nested too deeply (limit 3)");
    expect(err.position).toBe(3);
  });

  it("rejects hostile nesting under the default limits instead of exhausting the stack", () => {
    expect(() => parseSelector(`${"(".repeat(100_000)}has(a)${")".repeat(100_000)}`)).toThrow(
      /nested too deeply|too many tokens/,
    );
    expect(() => parseSelector(`${"!".repeat(50_000)}has(a)`)).toThrow(/nested too deeply/);
  });

  it("parses a near-limit but legal selector in linear time without backtracking traps", () => {
    // Long runs of characters that almost form a token are the classic regex backtracking trap.
    const text = `a in {${Array.from({ length: 5000 }, (_, i) => `"v${i}"`).join(", ")}} && b starts${" ".repeat(1000)}with "x"`;
    expect(parseSelector(text).matches({ a: "v4999", b: "xy" })).toBe(true);
    expect(() => parseSelector(`a ${"starts ".repeat(20_000)}`)).toThrow('expected operator after label "a"');
  });
});

describe("error classes", () => {
  it("rejects a non-string selector with a TypeError", () => {
    expect(() => parseSelector(42 as unknown as string)).toThrow(TypeError);
  });

  it("SelectorParseError keeps a cause", () => {
    const cause = new Error("inner");
    const err = new SelectorParseError("expected string", "a == b", 5, { cause });
    expect(err.cause).toBe(cause);
    expect(err).toBeInstanceOf(Error);
  });

  it("SelectorBuildError has its name", () => {
    expect(new SelectorBuildError("x").name).toBe("SelectorBuildError");
  });
});
