/**
 * Conformance with Calico's selector language (calico.md §6): which label sets match, which do
 * not, which selectors are rejected and with what message, and the canonical form of each.
 * The cases are ours, written across the categories Calico's own parser tests cover.
 */
import { describe, expect, it } from "vitest";
import { parseSelector, SelectorParseError, validateSelector } from "../src/index.js";

type LabelCase = readonly [selector: string, labels: Record<string, string>];

const MATCHES: readonly LabelCase[] = [
  // empty and blank selectors are all()
  ["", {}],
  ["", { a: "b" }],
  ["   \t ", { a: "b" }],
  ["all()", {}],
  ["all( )", { a: "b" }],
  ["global()", {}],
  ["global(\t)", { a: "b" }],
  // equality
  ['a == "b"', { a: "b" }],
  ["a == 'b'", { a: "b" }],
  ['a=="b"', { a: "b" }],
  ['a == ""', { a: "" }],
  ['a == "b c"', { a: "b c" }],
  ["a == 'say \"hi\"'", { a: 'say "hi"' }],
  ['a == "it\'s"', { a: "it's" }],
  ['a == "ünïcødé 😀"', { a: "ünïcødé 😀" }],
  ['a == "b"', { a: "b", c: "d" }],
  // inequality: true when the label is missing
  ['a != "b"', {}],
  ['a != "b"', { a: "c" }],
  ['a != "b"', { c: "b" }],
  ['a != ""', { a: "x" }],
  // has
  ["has(a)", { a: "" }],
  ["has(a)", { a: "b" }],
  ["has( a )", { a: "b" }],
  ["has(\ta\t)", { a: "b" }],
  ["!has(a)", { b: "c" }],
  ["!has(a)", {}],
  // in / not in
  ['a in {"b"}', { a: "b" }],
  ['a in {"b", "c"}', { a: "c" }],
  ["a in {'b','c',}", { a: "b" }],
  ['a in {"", "x"}', { a: "" }],
  ['a in{"b"}', { a: "b" }],
  ['a not in {"b"}', {}],
  ['a not in {"b"}', { a: "c" }],
  ['a notin {"b"}', { a: "c" }],
  ['a not   in {"b"}', { a: "c" }],
  ["a not in {}", {}],
  ["a not in {}", { a: "b" }],
  // contains / starts with / ends with
  ['a contains "b"', { a: "abc" }],
  ['a contains ""', { a: "" }],
  ['a contains ""', { a: "x" }],
  ['a starts with "ab"', { a: "abc" }],
  ['a startswith "ab"', { a: "abc" }],
  ['a starts  with "ab"', { a: "abc" }],
  ['a starts with ""', { a: "x" }],
  ['a ends with "bc"', { a: "abc" }],
  ['a endswith "bc"', { a: "abc" }],
  ['a ends with ""', { a: "" }],
  ['a contains"b"', { a: "b" }],
  // label key characters and keyword-like labels
  ['a.b/c-d_e == "x"', { "a.b/c-d_e": "x" }],
  ['projectcalico.org/namespace == "default"', { "projectcalico.org/namespace": "default" }],
  ['a/b/c == "x"', { "a/b/c": "x" }],
  ['1 == "x"', { "1": "x" }],
  ['-a == "x"', { "-a": "x" }],
  ['.a == "x"', { ".a": "x" }],
  ['/a == "x"', { "/a": "x" }],
  ['in == "x"', { in: "x" }],
  ['has == "x"', { has: "x" }],
  ['all == "x"', { all: "x" }],
  ['global == "x"', { global: "x" }],
  ['not == "x"', { not: "x" }],
  ['contains contains "x"', { contains: "xyz" }],
  ['in in {"x"}', { in: "x" }],
  ['not not in {"x"}', { not: "y" }],
  ["has(in)", { in: "" }],
  ["has(has)", { has: "" }],
  ['constructor == "x"', { constructor: "x" }],
  ['__proto__ != "x"', {}],
  // negation, grouping, precedence
  ['!a == "b"', { a: "c" }],
  ['!(a == "b")', {}],
  ['!!a == "b"', { a: "b" }],
  ['!!!a == "b"', { a: "c" }],
  ['a == "b" && c == "d"', { a: "b", c: "d" }],
  ['a == "b" || c == "d"', { c: "d" }],
  ['a == "b" || c == "d" && e == "f"', { a: "b" }],
  ['(a == "b" || c == "d") && e == "f"', { c: "d", e: "f" }],
  ['a == "b" && (c == "d" || e == "f")', { a: "b", e: "f" }],
  ["((((has(a)))))", { a: "x" }],
  ["! (has( b)||! has(a ))", { a: "x" }],
  ["has(a)&&has(b)||has(c)", { c: "" }],
  ["all() && global()", {}],
  ["all() || !all()", {}],
];

const NON_MATCHES: readonly LabelCase[] = [
  ['a == "b"', {}],
  ['a == "b"', { a: "c" }],
  ['a == "b"', { a: "B" }],
  ['a == "b"', { a: "b " }],
  ['a == "b"', { A: "b" }],
  ['a == ""', {}],
  ['a != "b"', { a: "b" }],
  ["has(a)", {}],
  ["has(a)", { b: "a" }],
  ["!has(a)", { a: "" }],
  ['a in {"b"}', {}],
  ['a in {"b", "c"}', { a: "d" }],
  ["a in {}", {}],
  ["a in {}", { a: "" }],
  ['a not in {"b"}', { a: "b" }],
  ['a notin {"b", "c"}', { a: "c" }],
  ['a contains "b"', {}],
  ['a contains ""', {}],
  ['a contains "b"', { a: "ac" }],
  ['a starts with "b"', { a: "ab" }],
  ['a starts with ""', {}],
  ['a ends with "b"', { a: "ba" }],
  ['a ends with ""', {}],
  ["!all()", {}],
  ["!global()", { a: "b" }],
  ['!a == "b"', { a: "b" }],
  ['!a != "b"', {}],
  ['!!a == "b"', {}],
  ['a == "b" && c == "d"', { a: "b" }],
  ['a == "b" || c == "d"', { a: "x", c: "x" }],
  ['a == "b" || c == "d" && e == "f"', { c: "d" }],
  ['(a == "b" || c == "d") && e == "f"', { a: "b" }],
  ["! (has( b)||! has(a ))", { a: "x", b: "y" }],
  ['constructor == "x"', {}],
  ["has(constructor)", {}],
  ["has(toString)", {}],
  ["has(__proto__)", {}],
];

const CANONICAL: readonly (readonly [input: string, canonical: string])[] = [
  ["", "all()"],
  [" \t ", "all()"],
  ["all( )", "all()"],
  ["global(  )", "global()"],
  ["has( a )", "has(a)"],
  ["a=='b'", 'a == "b"'],
  ["a == 'say \"hi\"'", "a == 'say \"hi\"'"],
  ['a == "it\'s"', 'a == "it\'s"'],
  ["a!='b'", 'a != "b"'],
  ["a in {'c','b','c',}", 'a in {"b", "c"}'],
  ["a in {}", "a in {}"],
  ["a notin {'b'}", 'a not in {"b"}'],
  ["a not  in {'b'}", 'a not in {"b"}'],
  ["a in {'b', 'say \"hi\"'}", 'a in {"b", \'say "hi"\'}'],
  ["a contains 'b'", 'a contains "b"'],
  ["a startswith 'b'", 'a starts with "b"'],
  ["a starts \t with 'b'", 'a starts with "b"'],
  ["a endswith 'b'", 'a ends with "b"'],
  ["!(a == 'b')", '!a == "b"'],
  ["!!has(a)", "!!has(a)"],
  ["! (has( b)||! has(a ))", "!(has(b) || !has(a))"],
  ["a == 'b' && c == 'd'", '(a == "b" && c == "d")'],
  ["a == 'b' || c == 'd' && e == 'f'", '(a == "b" || (c == "d" && e == "f"))'],
  ["(a == 'b' || c == 'd') && e == 'f'", '((a == "b" || c == "d") && e == "f")'],
  ["has(a) && has(b) && has(c)", "(has(a) && has(b) && has(c))"],
  ["(has(a) && has(b)) && has(c)", "((has(a) && has(b)) && has(c))"],
  ["has(a) && (has(b) && has(c))", "(has(a) && (has(b) && has(c)))"],
  ["((has(a)))", "has(a)"],
  ["all() && global()", "(all() && global())"],
  // Set members sort by code point (UTF-8 byte order), so an astral character sorts after U+FFFF.
  ["a in {'😀', '\uffff', 'b', 'B', ''}", 'a in {"", "B", "b", "\uffff", "😀"}'],
];

type BadCase = readonly [selector: string, message: string, position: number];

const BAD: readonly BadCase[] = [
  // the bad inputs calico.md lists
  ["b == b", "expected string", 5],
  ["'b1' == b", "unexpected token", 0],
  ["b", "unexpected end of string looking for op", 1],
  ["a b", 'expected operator after label "a"', 2],
  ["!", "unexpected end of string looking for op", 1],
  ['foo == "bar" &', "expected &&", 13],
  ['foo in ""', "expected set literal", 7],
  ["(", "unexpected end of string looking for op", 1],
  ['(a == "foo"', "expected )", 11],
  [")", "unexpected token", 0],
  ["()", "unexpected token", 1],
  ["%", "unexpected token", 0],
  ["has(foo) &&", "unexpected end of string looking for op", 11],
  ["has (a)", 'expected operator after label "has"', 4],
  ['a == "b"\n', "unexpected token", 8],
  ['\na == "b"', "unexpected token", 0],
  ['a ==\n"b"', "unexpected token", 4],
  ['a == "b\nc"', "unterminated string", 5],
  ['a == "b\rc"', "unterminated string", 5],
  // every message Calico has
  ['a == "b', "unterminated string", 5],
  ["a == 'b", "unterminated string", 5],
  ["a == \"b'", "unterminated string", 5],
  ['a = "b"', "expected ==", 2],
  ['a =! "b"', "expected ==", 2],
  ["has(a) | has(b)", "expected ||", 7],
  ["has(a) & has(b)", "expected &&", 7],
  ['a "b"', 'expected operator after label "a"', 2],
  ['a equals "b"', 'expected operator after label "a"', 2],
  ['a containsx "b"', 'expected operator after label "a"', 2],
  ['a startswithx "b"', 'expected operator after label "a"', 2],
  ['a starts "b"', 'expected operator after label "a"', 2],
  ['a index {"b"}', 'expected operator after label "a"', 2],
  ['a not "b"', 'expected operator after label "a"', 2],
  ['a ! "b"', 'expected operator after label "a"', 2],
  ['a ( "b" )', 'expected operator after label "a"', 2],
  ["all(x)", 'expected operator after label "all"', 3],
  ["global(x)", 'expected operator after label "global"', 6],
  ["has()", "expected identifier", 4],
  ["has( )", "expected identifier", 5],
  ["has(%)", "expected identifier", 4],
  ["has(a", "no closing ')' after has(", 5],
  ["has(a b)", "no closing ')' after has(", 6],
  ["has(a,b)", "no closing ')' after has(", 5],
  [`${"x".repeat(513)} == "a"`, "label too long", 0],
  [`has(${"x".repeat(513)})`, "label too long", 4],
  ["a ==", "expected string", 4],
  ["a == b", "expected string", 5],
  ["a contains b", "expected string", 11],
  ["a in", "expected set literal", 4],
  ['a in "b"', "expected set literal", 5],
  ['a in {"b"', "expected }", 9],
  ['a in {"b" "c"}', "expected }", 10],
  ['a in {"b",,}', "expected }", 10],
  ["a in {,}", "expected }", 6],
  ["a in {b}", "expected }", 6],
  ['a in {"b"} }', "unexpected content at end of selector", 11],
  ["has(a) has(b)", "unexpected content at end of selector", 7],
  ["has(a))", "unexpected content at end of selector", 6],
  ['has(a) == "b"', "unexpected content at end of selector", 7],
  ["&& has(a)", "unexpected token", 0],
  ["has(a) && || has(b)", "unexpected token", 10],
  ["{}", "unexpected token", 0],
  ['"a" == "b"', "unexpected token", 0],
  ["has(a) && !", "unexpected end of string looking for op", 11],
  // a lexical error anywhere wins over an earlier grammar error (the input is tokenized first)
  [") %", "unexpected token", 2],
  ['a b == "c', 'expected operator after label "a"', 2],
  ["( a == 'b' ", "expected )", 11],
];

describe("parseSelector: Calico conformance", () => {
  it.each(MATCHES)("%j matches %j", (selector, labels) => {
    expect(parseSelector(selector).matches(labels)).toBe(true);
    expect(parseSelector(selector).matches(new Map(Object.entries(labels)))).toBe(true);
  });

  it.each(NON_MATCHES)("%j does not match %j", (selector, labels) => {
    expect(parseSelector(selector).matches(labels)).toBe(false);
    expect(parseSelector(selector).matches(new Map(Object.entries(labels)))).toBe(false);
  });

  it.each(CANONICAL)("%j prints canonically as %j", (input, canonical) => {
    const selector = parseSelector(input);
    expect(selector.toString()).toBe(canonical);
    expect(parseSelector(canonical).toString()).toBe(canonical);
    expect(parseSelector(canonical).id).toBe(selector.id);
  });

  it.each(BAD)("rejects %j with %j at %i", (selector, message, position) => {
    let caught: unknown;
    try {
      parseSelector(selector);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SelectorParseError);
    const err = caught as SelectorParseError;
    expect(err.message).toBe(message);
    expect(err.position).toBe(position);
    expect(err.selector).toBe(selector);
    expect(err.name).toBe("SelectorParseError");
    expect(() => validateSelector(selector)).toThrow(message);
  });

  it.each(MATCHES.map(([s]) => s))("validateSelector accepts %j", (selector) => {
    expect(validateSelector(selector)).toBeUndefined();
  });

  it("accepts a label key of exactly 512 characters", () => {
    const key = "k".repeat(512);
    expect(parseSelector(`${key} == "v"`).matches({ [key]: "v" })).toBe(true);
    expect(parseSelector(`has(${key})`).toString()).toBe(`has(${key})`);
  });
});

describe("selector ids", () => {
  it("are Calico's scheme: s: + unpadded base64url SHA-224 of the canonical form", () => {
    // SHA-224("all()") computed independently of the package.
    expect(parseSelector("").id).toBe("s:yAKsl-CNoToGJvI4pNl6xXkWbnkbEnlK7IRXBA");
    expect(parseSelector("").id).toMatch(/^s:[A-Za-z0-9_-]{38}$/);
  });

  it.each([
    ["a == 'b' && c == 'd'", '(a=="b")&&(c=="d")'],
    ["a in {'c', 'b'}", "a in {'b','c','b'}"],
    ["!(has(a))", "!has(a)"],
  ])("are equal for %j and %j, which share a canonical form", (x, y) => {
    expect(parseSelector(x).id).toBe(parseSelector(y).id);
  });

  it.each([
    ["a == 'b' && c == 'd'", "c == 'd' && a == 'b'"],
    ["(has(a) && has(b)) && has(c)", "has(a) && has(b) && has(c)"],
    ['a == "b"', 'a != "b"'],
  ])("differ for %j and %j, which print differently", (x, y) => {
    expect(parseSelector(x).id).not.toBe(parseSelector(y).id);
  });
});
