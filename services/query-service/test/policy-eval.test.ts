/**
 * Policy compilation per calico.md §7: applies-to and rule selector texts exactly as calicoq prints
 * them, and calicoq's policy order.
 */
import type { EntityRule, GlobalNetworkPolicy, NetworkPolicy } from "@fedview/model";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  appliesToText,
  type CompiledPolicy,
  comparePolicies,
  compilePolicy,
  DEFAULT_TIER_ORDER,
  entitySelectorText,
} from "../src/policy-eval.js";
import { globalPolicy, networkPolicy } from "./fixtures.js";

describe("applies-to selector", () => {
  it.each<[string, NetworkPolicy | GlobalNetworkPolicy, string]>([
    ["a global policy's selector as written", globalPolicy("a", { selector: "role == 'db'" }), "role == 'db'"],
    ["an empty global selector", globalPolicy("a", {}), ""],
    [
      "a namespaced policy adds its namespace",
      networkPolicy("ns1", "a", { selector: "role == 'db'" }),
      "(role == 'db') && projectcalico.org/namespace == 'ns1'",
    ],
    [
      "an empty namespaced selector is the namespace term alone",
      networkPolicy("ns1", "a", { selector: "  " }),
      "projectcalico.org/namespace == 'ns1'",
    ],
    [
      "a global namespaceSelector is prefixed and appended",
      globalPolicy("a", { selector: "has(x)", namespaceSelector: "env == 'prod'" }),
      '(has(x)) && pcns.env == "prod"',
    ],
    [
      "a global namespaceSelector all() selects namespaced endpoints",
      globalPolicy("a", { namespaceSelector: "all()" }),
      "has(projectcalico.org/namespace)",
    ],
    [
      "a serviceAccountSelector is pcsa-prefixed",
      networkPolicy("ns1", "a", { selector: "has(x)", serviceAccountSelector: "team == 'a' || team == 'b'" }),
      '((has(x)) && projectcalico.org/namespace == \'ns1\') && (pcsa.team == "a" || pcsa.team == "b")',
    ],
  ])("%s", (_, policy, text) => {
    expect(appliesToText(policy)).toBe(text);
  });
});

describe("rule selectors", () => {
  it.each<[string, EntityRule, string | undefined, string]>([
    ["a global rule selector as written", { selector: "app == 'a'" }, undefined, "app == 'a'"],
    ["nets only select no endpoint", { nets: ["10.0.0.0/8"] }, "ns1", ""],
    [
      "a namespaced rule is scoped to its namespace",
      { selector: "app == 'a'" },
      "ns1",
      "(projectcalico.org/namespace == 'ns1') && (app == 'a')",
    ],
    [
      "a namespaceSelector replaces the scope, prefixed pcns.",
      { selector: "app == 'a'", namespaceSelector: "team in {'x', 'y'}" },
      "ns1",
      '(pcns.team in {"x", "y"}) && (app == \'a\')',
    ],
    ["namespaceSelector all()", { namespaceSelector: "all()" }, "ns1", "has(projectcalico.org/namespace)"],
    ["namespaceSelector global()", { namespaceSelector: "global()" }, undefined, "!has(projectcalico.org/namespace)"],
    [
      "service account names in a global policy",
      { serviceAccounts: { names: ["web", "api", "web"] } },
      undefined,
      'projectcalico.org/serviceaccount in {"api", "web"}',
    ],
    [
      "service accounts in a namespaced policy, selector then names",
      { serviceAccounts: { names: ["api"], selector: "tier == 'x'" } },
      "ns1",
      '(projectcalico.org/namespace == \'ns1\') && (pcsa.tier == "x" && projectcalico.org/serviceaccount in {"api"})',
    ],
    [
      "selector, namespaceSelector and service accounts together",
      { selector: "app == 'a'", namespaceSelector: "env == 'p'", serviceAccounts: { selector: "has(k)" } },
      undefined,
      "((pcns.env == \"p\") && (app == 'a')) && (has(pcsa.k))",
    ],
    [
      "a notSelector alone still scopes the positive side to the namespace",
      { notSelector: "app == 'b'" },
      "ns1",
      "projectcalico.org/namespace == 'ns1'",
    ],
  ])("%s", (_, entity, namespace, text) => {
    expect(entitySelectorText(entity, namespace)).toBe(text);
  });

  it("numbers rules per direction and lists each side's selector and notSelector", () => {
    const compiled = compilePolicy(
      networkPolicy("ns1", "tier1.p", {
        tier: "tier1",
        ingress: [
          { action: "Allow", source: { nets: ["10.0.0.0/8"] } },
          {
            action: "Allow",
            source: { selector: "a == 'x'", notSelector: "b == 'y'" },
            destination: { selector: "has(c)" },
          },
        ],
        egress: [{ action: "Deny", destination: { notSelector: "d == 'z'" } }],
      }),
    );
    expect(compiled.name).toBe("ns1/tier1.p");
    expect(compiled.tier).toBe("tier1");
    expect(compiled.rules.map((r) => [r.direction, r.index, r.type, r.text])).toEqual([
      ["inbound", 2, "source", "(projectcalico.org/namespace == 'ns1') && (a == 'x')"],
      ["inbound", 2, "!source", "b == 'y'"],
      ["inbound", 2, "destination", "(projectcalico.org/namespace == 'ns1') && (has(c))"],
      ["outbound", 1, "destination", "projectcalico.org/namespace == 'ns1'"],
      ["outbound", 1, "!destination", "d == 'z'"],
    ]);
  });

  it("refuses a policy whose selector Calico rejects", () => {
    expect(() =>
      compilePolicy(globalPolicy("p", { ingress: [{ action: "Allow", source: { selector: "a ==" } }] })),
    ).toThrow();
  });
});

describe("policy order", () => {
  const policy = (name: string, tier: string, order?: number, untracked = false): CompiledPolicy =>
    compilePolicy(
      globalPolicy(name, {
        tier,
        ...(order === undefined ? {} : { order }),
        ...(untracked ? { doNotTrack: true } : {}),
      }),
    );
  const tiers = new Map<string, number | undefined>([
    ["security", 100],
    ["platform", undefined],
  ]);

  it("untracked first, then tier order (none last), tier name, policy order (none last), name", () => {
    const policies = [
      policy("platform.z", "platform", 1),
      policy("default.b", "default", 5),
      policy("default.a", "default", 5),
      policy("default.none", "default"),
      policy("security.x", "security", 1000),
      policy("default.early", "default", 1),
      policy("default.untracked", "default", 900, true),
      policy("other.o", "other", 1),
    ];
    const sorted = [...policies].sort((a, b) => comparePolicies(a, b, tiers)).map((p) => p.name);
    expect(sorted).toEqual([
      "default.untracked",
      "security.x",
      "default.early",
      "default.a",
      "default.b",
      "default.none",
      "other.o",
      "platform.z",
    ]);
    expect(DEFAULT_TIER_ORDER).toBe(1_000_000);
  });

  it("is a total order: antisymmetric and transitive over random policies", () => {
    const arbitrary = fc.record({
      name: fc.constantFrom("a", "b", "c"),
      tier: fc.constantFrom("default", "security", "platform", "zeta"),
      order: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
      untracked: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(arbitrary, { minLength: 3, maxLength: 3 }), (specs) => {
        const [a, b, c] = specs.map((s) => policy(`${s.tier}.${s.name}`, s.tier, s.order, s.untracked)) as [
          CompiledPolicy,
          CompiledPolicy,
          CompiledPolicy,
        ];
        const cmp = (x: CompiledPolicy, y: CompiledPolicy) => Math.sign(comparePolicies(x, y, tiers));
        expect(cmp(a, b) + cmp(b, a)).toBe(0);
        if (cmp(a, b) <= 0 && cmp(b, c) <= 0) expect(cmp(a, c)).toBeLessThanOrEqual(0);
      }),
    );
  });
});
