/**
 * Round trips: printing is canonical and parsing the print gives back the same selector,
 * `parse(print(s)) ≡ s`, for arbitrary ASTs; and arbitrary text either parses to a selector whose
 * print is a fixed point, or fails with a positioned `SelectorParseError` — never anything else.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSelector, printSelectorNode, SelectorParseError, selectorFromNode } from "../src/index.js";
import { labelSet, selectorNode } from "./arbitraries.js";

describe("parse(print(s)) ≡ s", () => {
  it("gives back the same AST, text and id for any AST", () => {
    fc.assert(
      fc.property(selectorNode, (node) => {
        const selector = selectorFromNode(node);
        const text = printSelectorNode(node);
        const reparsed = parseSelector(text);
        expect(reparsed.root).toEqual(selector.root);
        expect(reparsed.toString()).toBe(text);
        expect(reparsed.id).toBe(selector.id);
      }),
      { numRuns: 500 },
    );
  });

  it("keeps the meaning: the reparsed selector matches the same label sets", () => {
    fc.assert(
      fc.property(selectorNode, labelSet, (node, labels) => {
        const selector = selectorFromNode(node);
        expect(parseSelector(selector.toString()).matches(labels)).toBe(selector.matches(labels));
      }),
      { numRuns: 500 },
    );
  });
});

/** Fragments that make selector-ish text, valid and not. */
const fragment = fc.constantFrom(
  "a",
  "b",
  "in",
  "has",
  "not",
  "all",
  " ",
  "\t",
  "\n",
  "(",
  ")",
  "{",
  "}",
  ",",
  "!",
  "=",
  "==",
  "!=",
  "&",
  "&&",
  "|",
  "||",
  '"',
  "'",
  '"x"',
  "'y'",
  "has(",
  "all()",
  "global()",
  "contains",
  "starts",
  "with",
  "ends",
  "notin",
  "%",
  "é",
  "-",
  ".",
  "/",
);

describe("arbitrary text", () => {
  it("parses to a canonical fixed point or fails with a positioned SelectorParseError", () => {
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 12 }), (parts) => {
        const text = parts.join("");
        let printed: string;
        try {
          printed = parseSelector(text).toString();
        } catch (err) {
          expect(err).toBeInstanceOf(SelectorParseError);
          const position = (err as SelectorParseError).position;
          expect(position).toBeGreaterThanOrEqual(0);
          expect(position).toBeLessThanOrEqual(text.length);
          return;
        }
        expect(parseSelector(printed).toString()).toBe(printed);
      }),
      { numRuns: 3000 },
    );
  });

  it("never accepts a line break", () => {
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 8 }), fc.nat(), (parts, at) => {
        const text = parts.join("");
        const i = at % (text.length + 1);
        const broken = `${text.slice(0, i)}\n${text.slice(i)}`;
        expect(() => parseSelector(broken)).toThrow(SelectorParseError);
      }),
      { numRuns: 1000 },
    );
  });
});
