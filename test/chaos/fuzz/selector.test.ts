/**
 * Fuzzing the selector parser: whatever the text, `parseSelector` either returns a selector whose
 * canonical form parses back to itself, or throws a `SelectorParseError` pointing inside the text.
 * Never another exception, never a hang (the test timeout bounds the whole run).
 */
import { parseSelector, SELECTOR_LIMITS, SelectorParseError } from "@fedview/selector";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anySelectorText } from "../lib/arbitraries.js";
import { FIGURES } from "../lib/figures.js";

/** What parsing `text` did: the canonical form, or the parse error. Anything else is rethrown. */
function parseOutcome(text: string): { ok: true; canonical: string } | { ok: false; error: SelectorParseError } {
  try {
    return { ok: true, canonical: parseSelector(text).toString() };
  } catch (err) {
    if (err instanceof SelectorParseError) return { ok: false, error: err };
    throw new Error(`parseSelector(${JSON.stringify(text)}) threw ${String(err)}, not a SelectorParseError`, {
      cause: err,
    });
  }
}

const seen = { accepted: 0, refused: 0 };

function checkOne(text: string): boolean {
  const outcome = parseOutcome(text);
  seen[outcome.ok ? "accepted" : "refused"]++;
  if (outcome.ok) {
    // The canonical form is itself a selector with the same canonical form.
    const again = parseOutcome(outcome.canonical);
    return again.ok && again.canonical === outcome.canonical;
  }
  const { error } = outcome;
  return (
    error.message.length > 0 &&
    error.selector === text &&
    Number.isInteger(error.position) &&
    error.position >= 0 &&
    error.position <= text.length
  );
}

// Runs of 10k inputs each, so a failure reports a small counterexample quickly and fast-check's
// bookkeeping stays flat over a million inputs.
const CHUNK = 10_000;

describe("selector parser fuzz", () => {
  it(
    `gives a selector or a SelectorParseError for ${FIGURES.selectorInputs} generated inputs`,
    () => {
      let tried = 0;
      for (let seed = 1; tried < FIGURES.selectorInputs; seed++) {
        const numRuns = Math.min(CHUNK, FIGURES.selectorInputs - tried);
        fc.assert(fc.property(anySelectorText, checkOne), { numRuns, seed, endOnFailure: true });
        tried += numRuns;
      }
      expect(tried).toBe(FIGURES.selectorInputs);
      // The generators reach both sides of the parser, not just its first error.
      expect(seen.accepted).toBeGreaterThan(FIGURES.selectorInputs / 10);
      expect(seen.refused).toBeGreaterThan(FIGURES.selectorInputs / 10);
    },
    FIGURES.selectorInputs * 2 + 30_000,
  );

  const over = SELECTOR_LIMITS.maxLength + 1;
  const pathological: [string, string][] = [
    ["nesting far past the depth limit", `${"(".repeat(100_000)}a == "b"${")".repeat(100_000)}`],
    ["negations far past the depth limit", `${"!".repeat(200_000)}has(a)`],
    ["text past the length limit", `a == "${"x".repeat(over)}"`],
    ["tokens past the token limit", Array.from({ length: SELECTOR_LIMITS.maxTokens }, () => "has(a)").join(" && ")],
    ["a label over 512 characters", `has(${"k".repeat(513)})`],
    ["a set with 20k members", `a in {${Array.from({ length: 20_000 }, (_, i) => `"${i}"`).join(",")}}`],
    ["an unterminated string of 200k characters", `a == "${"y".repeat(200_000)}`],
    ["200k opening braces", `a in ${"{".repeat(200_000)}`],
    ["a long chain of ||", Array.from({ length: 10_000 }, (_, i) => `l${i} == "v"`).join(" || ")],
    ["a NUL in a label", "has(a\u0000b)"],
    ["a lone surrogate", 'a == "\ud800"'],
    ["only whitespace and a newline", " \t \n "],
  ];

  it.each(pathological)("handles %s without another exception", (_name, text) => {
    expect(checkOne(text)).toBe(true);
  });

  it("refuses nesting deeper than the depth limit with a SelectorParseError at the excess", () => {
    const depth = SELECTOR_LIMITS.maxDepth + 1;
    const outcome = parseOutcome(`${"(".repeat(depth)}has(a)${")".repeat(depth)}`);
    expect(outcome.ok).toBe(false);
    if (!outcome.ok) expect(outcome.error.position).toBeLessThanOrEqual(depth);
  });
});
