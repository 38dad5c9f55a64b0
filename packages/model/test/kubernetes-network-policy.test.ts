import { describe, expect, it } from "vitest";
import {
  KddConversionError,
  KubernetesNetworkPolicySchema,
  kubernetesNetworkPolicyName,
  kubernetesNetworkPolicyToCalico,
  type NetworkPolicy,
  policyDisplayName,
  policyTier,
} from "../src/index.js";
import { kubernetesNetworkPolicy } from "./fixtures.js";

const K8S = "projectcalico.org/orchestrator == 'k8s'";

function convert(spec?: Record<string, unknown>): NetworkPolicy {
  return kubernetesNetworkPolicyToCalico(KubernetesNetworkPolicySchema.parse(kubernetesNetworkPolicy(spec)));
}

describe("kubernetesNetworkPolicyToCalico", () => {
  it("converts the Kubernetes documentation's example exactly as Calico's KDD does", () => {
    expect(convert()).toEqual({
      apiVersion: "projectcalico.org/v3",
      kind: "NetworkPolicy",
      metadata: {
        name: "knp.default.test-network-policy",
        namespace: "default",
        uid: "7f3e2a1b-4444-4c55-9d7b-000000000004",
        resourceVersion: "220341",
        creationTimestamp: "2025-03-20T08:15:00Z",
      },
      spec: {
        tier: "default",
        order: 1000,
        selector: `${K8S} && role == 'db'`,
        types: ["Ingress", "Egress"],
        ingress: [
          {
            action: "Allow",
            protocol: "TCP",
            source: { nets: ["172.17.0.0/16"], notNets: ["172.17.1.0/24"] },
            destination: { ports: [6379] },
          },
          {
            action: "Allow",
            protocol: "TCP",
            source: { selector: K8S, namespaceSelector: "project == 'myproject'" },
            destination: { ports: [6379] },
          },
          {
            action: "Allow",
            protocol: "TCP",
            source: { selector: `${K8S} && role == 'frontend'` },
            destination: { ports: [6379] },
          },
        ],
        egress: [
          {
            action: "Allow",
            protocol: "TCP",
            source: {},
            destination: { ports: [5978], nets: ["10.0.0.0/24"] },
          },
        ],
      },
    });
  });

  it("names the policy knp.default.<name> in the default tier, as calicoq shows it", () => {
    const policy = convert();
    expect(kubernetesNetworkPolicyName("test-network-policy")).toBe("knp.default.test-network-policy");
    expect(policyTier(policy)).toBe("default");
    expect(policyDisplayName(policy)).toBe("default/knp.default.test-network-policy");
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["an empty podSelector", {}, K8S],
    [
      "matchLabels, in key order",
      { matchLabels: { role: "db", app: "shop" } },
      `${K8S} && app == 'shop' && role == 'db'`,
    ],
    [
      "a prefixed label key",
      { matchLabels: { "app.kubernetes.io/name": "postgres" } },
      `${K8S} && app.kubernetes.io/name == 'postgres'`,
    ],
    [
      "In, values in their order",
      { matchExpressions: [{ key: "tier", operator: "In", values: ["db", "cache"] }] },
      `${K8S} && tier in { 'db', 'cache' }`,
    ],
    [
      "NotIn",
      { matchExpressions: [{ key: "env", operator: "NotIn", values: ["dev"] }] },
      `${K8S} && env not in { 'dev' }`,
    ],
    ["Exists", { matchExpressions: [{ key: "app", operator: "Exists" }] }, `${K8S} && has(app)`],
    ["DoesNotExist", { matchExpressions: [{ key: "canary", operator: "DoesNotExist" }] }, `${K8S} && ! has(canary)`],
    [
      "matchLabels before expressions",
      {
        matchExpressions: [
          { key: "track", operator: "NotIn", values: ["canary"] },
          { key: "version", operator: "Exists", values: null },
        ],
        matchLabels: { app: "shop" },
      },
      `${K8S} && app == 'shop' && track not in { 'canary' } && has(version)`,
    ],
    ["an empty label value", { matchLabels: { tier: "" } }, `${K8S} && tier == ''`],
    ["a value holding a single quote, double-quoted", { matchLabels: { note: "it's" } }, `${K8S} && note == "it's"`],
  ])("writes the applies-to selector of %s", (_label, podSelector, selector) => {
    expect(convert({ podSelector }).spec.selector).toBe(selector);
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      "an empty namespaceSelector: every namespace",
      { namespaceSelector: {} },
      { selector: K8S, namespaceSelector: "all()" },
    ],
    [
      "a namespaceSelector",
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
      { selector: K8S, namespaceSelector: "kubernetes.io/metadata.name == 'monitoring'" },
    ],
    [
      "a namespaceSelector with expressions",
      { namespaceSelector: { matchExpressions: [{ key: "team", operator: "In", values: ["a", "b"] }] } },
      { selector: K8S, namespaceSelector: "team in { 'a', 'b' }" },
    ],
    [
      "both selectors",
      { podSelector: { matchLabels: { app: "prometheus" } }, namespaceSelector: { matchLabels: { team: "ops" } } },
      { selector: `${K8S} && app == 'prometheus'`, namespaceSelector: "team == 'ops'" },
    ],
    ["a podSelector alone: its own namespace", { podSelector: {} }, { selector: K8S }],
    [
      "an IP block, host bits cleared",
      { ipBlock: { cidr: "192.168.7.13/24", except: ["192.168.7.128/25", "192.168.7.5/32"] } },
      { nets: ["192.168.7.0/24"], notNets: ["192.168.7.128/25", "192.168.7.5/32"] },
    ],
    ["an IPv6 IP block", { ipBlock: { cidr: "FD00:10:0::/48" } }, { nets: ["fd00:10::/48"] }],
  ])("turns a peer with %s into the rule's source", (_label, peer, source) => {
    const { ingress } = convert({ podSelector: {}, ingress: [{ from: [peer] }] }).spec;
    expect(ingress).toEqual([{ action: "Allow", source, destination: {} }]);
  });

  it("turns an egress peer into the rule's destination, next to the ports", () => {
    const { egress } = convert({
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ namespaceSelector: {}, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
          ports: [{ protocol: "UDP", port: 53 }],
        },
      ],
    }).spec;
    expect(egress).toEqual([
      {
        action: "Allow",
        protocol: "UDP",
        source: {},
        destination: { ports: [53], selector: `${K8S} && k8s-app == 'kube-dns'`, namespaceSelector: "all()" },
      },
    ]);
  });

  it.each<[string, Record<string, unknown>[], [string | undefined, (number | string)[] | undefined][]]>([
    ["no ports: any protocol, any port", [], [[undefined, undefined]]],
    ["a port without a protocol: TCP", [{ port: 80 }], [["TCP", [80]]]],
    ["a port given as decimal text", [{ port: "8080" }], [["TCP", [8080]]]],
    ["a named port, kept as text", [{ protocol: "TCP", port: "http" }], [["TCP", ["http"]]]],
    ["a port range", [{ protocol: "TCP", port: 8000, endPort: 8080 }], [["TCP", ["8000:8080"]]]],
    ["a protocol without a port: every port", [{ protocol: "UDP" }], [["UDP", undefined]]],
    ["SCTP", [{ protocol: "SCTP", port: 9899 }], [["SCTP", [9899]]]],
    [
      "one rule per protocol, in protocol order",
      [
        { protocol: "UDP", port: 53 },
        { protocol: "TCP", port: 53 },
      ],
      [
        ["TCP", [53]],
        ["UDP", [53]],
      ],
    ],
    [
      "ports of one protocol merged: named first, then ranges by start",
      [{ port: 9090 }, { port: 82 }, { port: "metrics" }, { port: 80 }, { port: 81 }],
      [["TCP", ["metrics", "80:82", 9090]]],
    ],
    [
      "overlapping ranges merged",
      [{ port: 8085, endPort: 8100 }, { port: 8000, endPort: 8090 }, { port: 8200 }],
      [["TCP", ["8000:8100", 8200]]],
    ],
    [
      "a protocol's port-less entry allowing all of its ports",
      [{ protocol: "TCP", port: 443 }, { protocol: "TCP" }, { protocol: "UDP", port: 443 }],
      [
        ["TCP", undefined],
        ["UDP", [443]],
      ],
    ],
  ])("matches ports: %s", (_label, ports, expected) => {
    const { ingress } = convert({ podSelector: {}, ingress: [{ ports }] }).spec;
    expect(ingress?.map((r) => [r.protocol, r.destination?.ports])).toEqual(expected);
  });

  it("makes one rule per protocol and peer, protocols outermost", () => {
    const { ingress } = convert({
      podSelector: {},
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { app: "a" } } }, { ipBlock: { cidr: "10.1.0.0/16" } }],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    }).spec;
    expect(ingress?.map((r) => [r.protocol, r.source])).toEqual([
      ["TCP", { selector: `${K8S} && app == 'a'` }],
      ["TCP", { nets: ["10.1.0.0/16"] }],
      ["UDP", { selector: `${K8S} && app == 'a'` }],
      ["UDP", { nets: ["10.1.0.0/16"] }],
    ]);
  });

  it.each<[string, Record<string, unknown>, Pick<NetworkPolicy["spec"], "types" | "ingress" | "egress">]>([
    [
      "an empty ingress rule: allow all ingress",
      { podSelector: {}, ingress: [{}] },
      { types: ["Ingress"], ingress: [{ action: "Allow", source: {}, destination: {} }] },
    ],
    [
      "no ingress rules: deny all ingress",
      { podSelector: {}, policyTypes: ["Ingress"], ingress: [] },
      { types: ["Ingress"] },
    ],
    [
      "an empty egress rule: allow all egress",
      { podSelector: {}, policyTypes: ["Egress"], egress: [{}] },
      { types: ["Egress"], egress: [{ action: "Allow", source: {}, destination: {} }] },
    ],
    ["no egress rules: deny all egress", { podSelector: {}, policyTypes: ["Egress"] }, { types: ["Egress"] }],
    [
      "no policyTypes with egress rules: Ingress and Egress, as the API server defaults them",
      { podSelector: {}, egress: [{}] },
      { types: ["Ingress", "Egress"], egress: [{ action: "Allow", source: {}, destination: {} }] },
    ],
    ["no policyTypes and no rules: Ingress", { podSelector: {} }, { types: ["Ingress"] }],
    [
      "policyTypes in Calico's order",
      { podSelector: {}, policyTypes: ["Egress", "Ingress"] },
      { types: ["Ingress", "Egress"] },
    ],
    [
      "egress rules of an Ingress-only policy kept, types as listed",
      { podSelector: {}, policyTypes: ["Ingress"], egress: [{}] },
      { types: ["Ingress"], egress: [{ action: "Allow", source: {}, destination: {} }] },
    ],
  ])("%s", (_label, spec, expected) => {
    const converted = convert(spec).spec;
    expect({ types: converted.types, ingress: converted.ingress, egress: converted.egress }).toEqual({
      ingress: undefined,
      egress: undefined,
      ...expected,
    });
  });

  it.each<[string, Record<string, unknown>]>([
    ["an IP block that is no CIDR", { from: [{ ipBlock: { cidr: "10.0.0.1" } }] }],
    ["an except entry that does not parse", { from: [{ ipBlock: { cidr: "10.0.0.0/8", except: ["10.300.0.0/16"] } }] }],
    ["a port above 65535", { ports: [{ port: 70000 }] }],
    ["a negative port", { ports: [{ port: -1 }] }],
    ["a range that ends before it starts", { ports: [{ port: 9000, endPort: 8000 }] }],
    ["a named port with an endPort", { ports: [{ port: "http", endPort: 8080 }] }],
  ])("drops a rule with %s and keeps the others, as Calico does", (_label, bad) => {
    const { ingress } = convert({
      podSelector: {},
      ingress: [{ from: [{ podSelector: {} }] }, bad, { ports: [{ port: 443 }] }],
    }).spec;
    expect(ingress).toEqual([
      { action: "Allow", source: { selector: K8S }, destination: {} },
      { action: "Allow", protocol: "TCP", source: {}, destination: { ports: [443] } },
    ]);
  });

  it.each<[string, Record<string, unknown>]>([
    ["a value holding both quote characters", { matchLabels: { note: `it's "x"` } }],
    ["a value spanning lines", { matchLabels: { note: "a\nb" } }],
    ["a label key with a space", { matchLabels: { "my key": "v" } }],
    ["an expression key with a parenthesis", { matchExpressions: [{ key: "a)", operator: "Exists" }] }],
  ])("throws KddConversionError for %s, which no Calico selector can hold", (_label, podSelector) => {
    expect(() => convert({ podSelector })).toThrow(KddConversionError);
    expect(() => convert({ podSelector: {}, ingress: [{ from: [{ namespaceSelector: podSelector }] }] })).toThrow(
      /networkpolicy default\/test-network-policy ingress rule 1: label (key|value)/,
    );
  });
});

describe("KubernetesNetworkPolicySchema", () => {
  it("accepts what @kubernetes/client-node deserialises: Date timestamps, undefined fields, from as _from", () => {
    const typed = {
      apiVersion: undefined,
      kind: undefined,
      metadata: {
        name: "allow-dns",
        namespace: "kube-system",
        creationTimestamp: new Date("2025-03-20T08:15:00.000Z"),
        labels: undefined,
        annotations: null,
      },
      spec: {
        podSelector: { matchLabels: undefined, matchExpressions: undefined },
        policyTypes: ["Ingress"],
        ingress: [
          {
            _from: [{ ipBlock: undefined, namespaceSelector: { matchLabels: undefined, matchExpressions: undefined } }],
            ports: [{ port: 53, protocol: "UDP", endPort: undefined }],
          },
        ],
        egress: undefined,
      },
    };
    const policy = kubernetesNetworkPolicyToCalico(KubernetesNetworkPolicySchema.parse(typed));
    expect(policy.metadata).toEqual({
      name: "knp.default.allow-dns",
      namespace: "kube-system",
      creationTimestamp: "2025-03-20T08:15:00Z",
    });
    expect(policy.spec.ingress).toEqual([
      {
        action: "Allow",
        protocol: "UDP",
        source: { selector: "projectcalico.org/orchestrator == 'k8s'", namespaceSelector: "all()" },
        destination: { ports: [53] },
      },
    ]);
  });

  it("keeps fields it does not read", () => {
    const parsed = KubernetesNetworkPolicySchema.parse(kubernetesNetworkPolicy());
    expect(parsed.metadata["managedFields"]).toHaveLength(1);
    expect(parsed.metadata["generation"]).toBe(1);
  });

  it.each<[string, unknown, string]>([
    ["a policy without a namespace", { metadata: { name: "p" }, spec: {} }, "metadata.namespace"],
    [
      "Calico's custom resource",
      { ...kubernetesNetworkPolicy(), apiVersion: "crd.projectcalico.org/v1" },
      "apiVersion",
    ],
    ["an unknown policy type", kubernetesNetworkPolicy({ policyTypes: ["Ingress", "Forward"] }), "spec.policyTypes.1"],
    [
      "an unknown operator",
      kubernetesNetworkPolicy({ podSelector: { matchExpressions: [{ key: "a", operator: "Gt", values: ["1"] }] } }),
      "spec.podSelector.matchExpressions.0.operator",
    ],
    [
      "In without values",
      kubernetesNetworkPolicy({ podSelector: { matchExpressions: [{ key: "a", operator: "In", values: [] }] } }),
      "spec.podSelector.matchExpressions.0.values",
    ],
    [
      "Exists with values",
      kubernetesNetworkPolicy({ podSelector: { matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] } }),
      "spec.podSelector.matchExpressions.0.values",
    ],
    [
      "an ipBlock without a cidr",
      kubernetesNetworkPolicy({ ingress: [{ from: [{ ipBlock: { except: [] } }] }] }),
      "spec.ingress.0.from.0.ipBlock.cidr",
    ],
    [
      "a port that is neither number nor text",
      kubernetesNetworkPolicy({ egress: [{ ports: [{ port: true }] }] }),
      "spec.egress.0.ports.0.port",
    ],
  ])("rejects %s", (_label, input, path) => {
    const result = KubernetesNetworkPolicySchema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join("."))).toContain(path);
  });
});
