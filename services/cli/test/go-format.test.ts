/** Go's formatting as calicoq prints it: %v of float64, encoding/json strings, go-yaml v2 scalars and key order. */
import { describe, expect, it } from "vitest";
import { goFloat, goJsonString, goMarshalIndent } from "../src/render/go-format.js";
import { compareYamlKeys, goYamlString, toGoYaml } from "../src/render/yaml.js";

describe("goFloat (fmt %v)", () => {
  it.each([
    [0, "0"],
    [1, "1"],
    [10.5, "10.5"],
    [100, "100"],
    [123456, "123456"],
    [999999, "999999"],
    [1_000_000, "1e+06"],
    [2_000_000, "2e+06"],
    [1_234_567, "1.234567e+06"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [0.000015, "1.5e-05"],
    [-3, "-3"],
    [-2500000, "-2.5e+06"],
    [1e21, "1e+21"],
  ])("%d → %s", (value, text) => {
    expect(goFloat(value)).toBe(text);
  });
});

describe("goJsonString (HTML-safe, as json.Marshal)", () => {
  it.each([
    ["a && b", '"a \\u0026\\u0026 b"'],
    ['app == "api"', '"app == \\"api\\""'],
    ["<x>", '"\\u003cx\\u003e"'],
    ["tab\tnl\n", '"tab\\tnl\\n"'],
    ["\u0001", '"\\u0001"'],
    ["\u2028", '"\\u2028"'],
    ["é/ü", '"é/ü"'],
  ])("%j", (text, json) => {
    expect(goJsonString(text)).toBe(json);
  });

  it("indents like MarshalIndent with empty collections inline", () => {
    expect(goMarshalIndent([{ a: [], b: {}, c: 1.5, d: "x" }])).toBe(
      '[\n  {\n    "a": [],\n    "b": {},\n    "c": 1.5,\n    "d": "x"\n  }\n]',
    );
  });
});

describe("goYamlString (go-yaml v2 scalar styles)", () => {
  it.each([
    ['app == "api"', 'app == "api"'],
    [
      "(app == 'api') && projectcalico.org/namespace == 'prod'",
      "(app == 'api') && projectcalico.org/namespace == 'prod'",
    ],
    ["!has(projectcalico.org/namespace)", "'!has(projectcalico.org/namespace)'"],
    ["!destination", "'!destination'"],
    ["'x' == a", "'''x'' == a'"],
    ['pcsa.team == "payments" && x in {"a", "b"}', 'pcsa.team == "payments" && x in {"a", "b"}'],
    ["a: b", "'a: b'"],
    ["x #y", "'x #y'"],
    ["- x", "'- x'"],
    ["@x", "'@x'"],
    ["yes", '"yes"'],
    ["on", '"on"'],
    ["123", '"123"'],
    ["1e3", '"1e3"'],
    ["0x1F", '"0x1F"'],
    ["1:20", '"1:20"'],
    ["2026-03-01", '"2026-03-01"'],
    ["null", '"null"'],
    ["", '""'],
    ["node-1", "node-1"],
    ["east/node-a", "east/node-a"],
    ["x:y", "x:y"],
  ])("%j → %s", (text, yaml) => {
    expect(goYamlString(text)).toBe(yaml);
  });

  it("sorts keys with non-letters first, and does not indent lists under their key", () => {
    expect(
      ["tier_order", "tier_name", "selector_type", "selector", "policies", "policy_name"].sort(compareYamlKeys),
    ).toEqual(["policies", "policy_name", "selector", "selector_type", "tier_name", "tier_order"]);
    expect(toGoYaml([{ b: [{ y: 1, x: 2.5 }], a: "t" }])).toBe('- a: t\n  b:\n  - x: 2.5\n    "y": 1\n');
  });
});
