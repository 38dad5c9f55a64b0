/**
 * Label restrictions: what they say for each kind of selector, and that they are sound — every
 * label set a selector matches satisfies its restrictions, and an impossible selector matches
 * nothing.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSelector, type SelectorRestrictions, selectorFromNode } from "../src/index.js";
import { labelSet, selectorNode } from "./arbitraries.js";

/** label → "present" | values, plus "!" when the whole selector is impossible. */
function summary(r: SelectorRestrictions): Record<string, string | readonly string[]> {
  const out: Record<string, string | readonly string[]> = {};
  if (r.impossible) out["!"] = "impossible";
  for (const [label, restriction] of r.labels) {
    expect(restriction.mustBePresent).toBe(true);
    expect(restriction.impossible).toBe(restriction.mustHaveOneOfValues?.length === 0);
    out[label] = restriction.mustHaveOneOfValues ?? "present";
  }
  return out;
}

const CASES: readonly (readonly [selector: string, expected: Record<string, string | readonly string[]>])[] = [
  ["", {}],
  ["all()", {}],
  ["global()", {}],
  ['a == "x"', { a: ["x"] }],
  ["has(a)", { a: "present" }],
  ['a contains "x"', { a: "present" }],
  ['a starts with "x"', { a: "present" }],
  ['a ends with "x"', { a: "present" }],
  ['a != "x"', {}],
  ['a not in {"x"}', {}],
  ["!has(a)", {}],
  ['!a == "x"', {}],
  ['!a contains "x"', {}],
  ['a in {"y", "x", "y"}', { a: ["x", "y"] }],
  ["a in {}", { "!": "impossible", a: [] }],
  ["a not in {}", {}],
  ['!a != "x"', { a: ["x"] }],
  ['!a not in {"x", "y"}', { a: ["x", "y"] }],
  ["!a not in {}", { "!": "impossible", a: [] }],
  ["!!has(a)", { a: "present" }],
  ["!all()", { "!": "impossible" }],
  ["!global()", { "!": "impossible" }],
  ['a == "x" && a == "y"', { "!": "impossible", a: [] }],
  ['a == "x" && b in {"1", "2"}', { a: ["x"], b: ["1", "2"] }],
  ['has(a) && a in {"x", "y"} && a != "x"', { a: ["x", "y"] }],
  ['a in {"x", "y"} && a in {"y", "z"}', { a: ["y"] }],
  ['a == "x" || a == "y"', { a: ["x", "y"] }],
  ['a == "x" || has(a)', { a: "present" }],
  ['a == "x" || b == "y"', {}],
  ['(a == "x" && b == "1") || (a == "y" && c == "2")', { a: ["x", "y"] }],
  ['a == "x" || (b == "1" && b == "2")', { a: ["x"] }],
  ['a == "x" || !all()', { a: ["x"] }],
  ["!all() || !global()", { "!": "impossible" }],
  ['!(a != "x" || b != "y")', { a: ["x"], b: ["y"] }],
  ["!(has(a) || has(b))", {}],
  ['!(a == "x" && b == "y")', {}],
  ['!(!has(a) || a == "x")', { a: "present" }],
];

describe("restrictions", () => {
  it.each(CASES)("%j restricts %j", (selector, expected) => {
    expect(summary(parseSelector(selector).restrictions())).toEqual(expected);
  });

  it("are cached per selector", () => {
    const selector = parseSelector("has(a)");
    expect(selector.restrictions()).toBe(selector.restrictions());
  });

  it("are sound: every matching label set satisfies them", () => {
    fc.assert(
      fc.property(selectorNode, fc.array(labelSet, { minLength: 1, maxLength: 8 }), (node, labelSets) => {
        const selector = selectorFromNode(node);
        const r = selector.restrictions();
        for (const labels of labelSets) {
          if (!selector.matches(labels)) continue;
          expect(r.impossible).toBe(false);
          for (const [label, restriction] of r.labels) {
            expect(Object.hasOwn(labels, label)).toBe(true);
            if (restriction.mustHaveOneOfValues !== undefined) {
              expect(restriction.mustHaveOneOfValues).toContain(labels[label]);
            }
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});
