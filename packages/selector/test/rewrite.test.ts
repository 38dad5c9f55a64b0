/**
 * Building and rewriting selectors for the query service (calico.md §7): label prefixes,
 * namespace and service-account selectors, `&&` combination, and the builders' checks.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allNode,
  andNode,
  andSelectors,
  equalNode,
  hasNode,
  inNode,
  isSelector,
  MAX_AST_DEPTH,
  mapSelector,
  NAMESPACE_LABEL,
  namespaceSelectorToEndpointSelector,
  notNode,
  orNode,
  orSelectors,
  parseSelector,
  prefixSelectorLabels,
  SelectorBuildError,
  type SelectorNode,
  SelectorNodeKind,
  selectorFromNode,
  serviceAccountNamesToEndpointSelector,
  serviceAccountSelectorToEndpointSelector,
  toSelector,
} from "../src/index.js";
import { labelSet, selectorNode } from "./arbitraries.js";

describe("prefixSelectorLabels", () => {
  it.each([
    ['a == "x"', "pcns.", 'pcns.a == "x"'],
    ['a == "x" && has(b)', "pcns.", '(pcns.a == "x" && has(pcns.b))'],
    ["!(a in {'y', 'x'} || b not in {})", "p/", '!(p/a in {"x", "y"} || p/b not in {})'],
    [
      "a contains 'c' && a starts with 's' && a ends with 'e' && a != 'n'",
      "q.",
      '(q.a contains "c" && q.a starts with "s" && q.a ends with "e" && q.a != "n")',
    ],
    ["all() || global()", "pcns.", "(all() || global())"],
  ])("prefixes %j with %j as %j", (input, prefix, expected) => {
    expect(prefixSelectorLabels(input, prefix).toString()).toBe(expected);
  });

  it("keeps the meaning over prefixed labels", () => {
    fc.assert(
      fc.property(selectorNode, labelSet, (node, labels) => {
        const prefixed = Object.fromEntries(Object.entries(labels).map(([k, v]) => [`pcsa.${k}`, v]));
        expect(prefixSelectorLabels(node, "pcsa.").matches(prefixed)).toBe(selectorFromNode(node).matches(labels));
      }),
      { numRuns: 300 },
    );
  });

  it("rejects a prefix that makes a label key too long", () => {
    expect(() => prefixSelectorLabels(`has(${"k".repeat(510)})`, "pcns.")).toThrow(SelectorBuildError);
  });
});

describe("namespaceSelectorToEndpointSelector", () => {
  it.each([
    ["all()", "has(projectcalico.org/namespace)"],
    ["", "has(projectcalico.org/namespace)"],
    ["global()", "!has(projectcalico.org/namespace)"],
    ["!all()", "!has(projectcalico.org/namespace)"],
    ["team == 'x'", 'pcns.team == "x"'],
    ["team == 'x' || global()", '(pcns.team == "x" || !has(projectcalico.org/namespace))'],
    ["has(projectcalico.org/name) && all()", "(has(pcns.projectcalico.org/name) && has(projectcalico.org/namespace))"],
  ])("rewrites %j as %j", (input, expected) => {
    expect(namespaceSelectorToEndpointSelector(input).toString()).toBe(expected);
  });

  it("matches an endpoint exactly when the original matches its namespace's labels", () => {
    const noGlobal = selectorNode.filter((node) => !JSON.stringify(node).includes('"global"'));
    fc.assert(
      fc.property(noGlobal, labelSet, (node, nsLabels) => {
        const endpoint: Record<string, string> = { [NAMESPACE_LABEL]: "ns1", app: "web" };
        for (const [k, v] of Object.entries(nsLabels)) endpoint[`pcns.${k}`] = v;
        expect(namespaceSelectorToEndpointSelector(node).matches(endpoint)).toBe(
          selectorFromNode(node).matches(nsLabels),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe("service account selectors", () => {
  it("prefix labels with pcsa.", () => {
    expect(serviceAccountSelectorToEndpointSelector("role == 'admin' && has(tier)").toString()).toBe(
      '(pcsa.role == "admin" && has(pcsa.tier))',
    );
  });

  it("turn names into a sorted, de-duplicated set on projectcalico.org/serviceaccount", () => {
    const selector = serviceAccountNamesToEndpointSelector(["web", "api", "web"]);
    expect(selector.toString()).toBe('projectcalico.org/serviceaccount in {"api", "web"}');
    expect(selector.matches({ "projectcalico.org/serviceaccount": "api" })).toBe(true);
  });
});

describe("andSelectors / orSelectors", () => {
  it("keeps each selector a unit, like Calico's (a) && (b) text", () => {
    expect(andSelectors("a == 'x'", "b == 'y' && c == 'z'").toString()).toBe('(a == "x" && (b == "y" && c == "z"))');
    expect(orSelectors("a == 'x' || b == 'y'", "has(c)").toString()).toBe('((a == "x" || b == "y") || has(c))');
  });

  it("prints what parsing the (a) && (b) text prints, for any a and b", () => {
    fc.assert(
      fc.property(selectorNode, selectorNode, (a, b) => {
        const x = selectorFromNode(a);
        const y = selectorFromNode(b);
        expect(andSelectors(x, y).toString()).toBe(parseSelector(`(${x}) && (${y})`).toString());
        expect(andSelectors(x, y).id).toBe(parseSelector(`(${x}) && (${y})`).id);
      }),
      { numRuns: 300 },
    );
  });

  it("builds calico.md §7's namespaced applies-to selector", () => {
    const policy = parseSelector("app == 'web' || app == 'api'");
    const scoped = andSelectors(policy, equalNode(NAMESPACE_LABEL, "prod"));
    expect(scoped.toString()).toBe('((app == "web" || app == "api") && projectcalico.org/namespace == "prod")');
    expect(scoped.id).toBe(parseSelector("(app == 'web' || app == 'api') && projectcalico.org/namespace == 'prod'").id);
  });

  it("gives all() for nothing and the selector itself for one", () => {
    expect(andSelectors().toString()).toBe("all()");
    const one = parseSelector("has(a)");
    expect(andSelectors(one)).toBe(one);
    expect(orSelectors(one)).toBe(one);
    expect(() => orSelectors()).toThrow(SelectorBuildError);
  });
});

describe("builders and selectorFromNode", () => {
  it("exposes the kind tags", () => {
    expect(Object.values(SelectorNodeKind).sort()).toEqual([
      "all",
      "and",
      "contains",
      "endsWith",
      "equal",
      "global",
      "has",
      "in",
      "not",
      "notEqual",
      "notIn",
      "or",
      "startsWith",
    ]);
  });

  it("canonicalises hand-written ASTs", () => {
    const node = {
      kind: "and",
      operands: [
        { kind: "in", label: "a", values: ["z", "x", "z"] },
        { kind: "or", operands: [{ kind: "has", label: "b" }] },
      ],
    } as const satisfies SelectorNode;
    const selector = selectorFromNode(node);
    expect(selector.toString()).toBe('(a in {"x", "z"} && has(b))');
    expect(parseSelector(selector.toString()).root).toEqual(selector.root);
  });

  it.each([
    ["an invalid label key", () => hasNode("bad key")],
    ["an empty label key", () => equalNode("", "v")],
    ["a label key over 512 characters", () => hasNode("k".repeat(513))],
    ["a value with both quote characters", () => equalNode("a", `"'`)],
    ["a value with a line break", () => inNode("a", ["x\ny"])],
    ["an empty || group", () => orNode()],
    ["an unknown kind", () => selectorFromNode({ kind: "bogus" } as unknown as SelectorNode)],
    ["a non-array of operands", () => selectorFromNode({ kind: "and", operands: "x" } as unknown as SelectorNode)],
  ])("rejects %s with SelectorBuildError", (_what, build) => {
    expect(build).toThrow(SelectorBuildError);
  });

  it("rejects an AST deeper than MAX_AST_DEPTH", () => {
    let node: SelectorNode = hasNode("a");
    for (let i = 0; i <= MAX_AST_DEPTH; i++) node = notNode(node);
    expect(() => selectorFromNode(node)).toThrow(SelectorBuildError);
  });

  it("collapses one-operand groups and turns an empty && into all()", () => {
    expect(andNode(hasNode("a"))).toEqual(hasNode("a"));
    expect(orNode(hasNode("a"))).toEqual(hasNode("a"));
    expect(andNode()).toEqual(allNode());
  });

  it("mapSelector rewrites bottom-up", () => {
    const renamed = mapSelector("has(a) && !(a == 'x' || b == 'y')", (node) =>
      "label" in node && node.label === "a" ? { ...node, label: "c" } : node,
    );
    expect(renamed.toString()).toBe('(has(c) && !(c == "x" || b == "y"))');
  });

  it("toSelector accepts text, ASTs and selectors", () => {
    const selector = parseSelector("has(a)");
    expect(toSelector(selector)).toBe(selector);
    expect(toSelector("has(a)").id).toBe(selector.id);
    expect(toSelector(hasNode("a")).id).toBe(selector.id);
    expect(isSelector(selector)).toBe(true);
    expect(isSelector(hasNode("a"))).toBe(false);
  });
});
