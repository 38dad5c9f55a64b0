import { describe, expect, it } from "vitest";
import {
  CalicoResourceSchema,
  GlobalNetworkPolicySchema,
  HostEndpointSchema,
  IPPoolSchema,
  NetworkPolicySchema,
  NodeSchema,
  ProfileSchema,
  parseCalicoResource,
  parseResourceId,
  RESOURCE_KINDS,
  resourceId,
  resourceKindInfo,
  resourceRef,
  WorkloadEndpointSchema,
} from "../src/index.js";
import { storedHostEndpoint, storedNamespaceProfile, storedWorkloadEndpoint } from "./fixtures.js";

const v3 = "projectcalico.org/v3";

const samples = {
  WorkloadEndpoint: storedWorkloadEndpoint(),
  HostEndpoint: storedHostEndpoint(),
  Profile: storedNamespaceProfile(),
  NetworkPolicy: {
    apiVersion: v3,
    kind: "NetworkPolicy",
    metadata: { name: "default.allow-web", namespace: "shop" },
    spec: {
      tier: "default",
      order: 100,
      selector: "app == 'frontend'",
      types: ["Ingress"],
      ingress: [
        {
          action: "Allow",
          protocol: "TCP",
          source: { selector: "role == 'lb'", namespaceSelector: "env == 'prod'" },
          destination: { ports: [8080, "http", "9000:9100"] },
        },
      ],
    },
  },
  GlobalNetworkPolicy: {
    apiVersion: v3,
    kind: "GlobalNetworkPolicy",
    metadata: { name: "security.block-egress" },
    spec: {
      tier: "security",
      order: 10.5,
      selector: "has(projectcalico.org/orchestrator)",
      types: ["Egress"],
      egress: [
        {
          action: "Deny",
          destination: { nets: ["0.0.0.0/0"], notNets: ["10.0.0.0/8"] },
          source: { serviceAccounts: { names: ["frontend"], selector: "team == 'x'" } },
        },
      ],
      doNotTrack: true,
      applyOnForward: true,
      preDNAT: false,
    },
  },
  Node: {
    apiVersion: v3,
    kind: "Node",
    metadata: { name: "worker-1", labels: { "kubernetes.io/hostname": "worker-1" } },
    spec: { bgp: { ipv4Address: "192.168.10.21/24" }, orchRefs: [{ nodeName: "worker-1", orchestrator: "k8s" }] },
    status: { podCIDRs: ["10.244.1.0/24"] },
  },
  IPPool: {
    apiVersion: v3,
    kind: "IPPool",
    metadata: { name: "default-ipv4-ippool" },
    spec: { cidr: "10.244.0.0/16", blockSize: 26, ipipMode: "Never", vxlanMode: "CrossSubnet", natOutgoing: true },
  },
  NetworkSet: {
    apiVersion: v3,
    kind: "NetworkSet",
    metadata: { name: "partners", namespace: "shop" },
    spec: { nets: ["198.51.100.0/24"] },
  },
  GlobalNetworkSet: {
    apiVersion: v3,
    kind: "GlobalNetworkSet",
    metadata: { name: "blocklist" },
    spec: { nets: ["203.0.113.0/24"] },
  },
  Tier: { apiVersion: v3, kind: "Tier", metadata: { name: "security" }, spec: { order: 100 } },
  RemoteClusterConfiguration: {
    apiVersion: v3,
    kind: "RemoteClusterConfiguration",
    metadata: { name: "cluster-b" },
    spec: { datastoreType: "kubernetes", kubeconfig: "/kc", syncOptions: { overlayRoutingMode: "Disabled" } },
  },
};

describe("per-kind schemas", () => {
  it.each(RESOURCE_KINDS)("accept a realistic %s and keep unknown fields", (kind) => {
    const sample = { ...samples[kind], futureTopLevel: 1 };
    const parsed = resourceKindInfo[kind].schema.safeParse(sample);
    expect(parsed.error).toBeUndefined();
    expect(parsed.data).toMatchObject(samples[kind]);
    expect((parsed.data as Record<string, unknown>)["futureTopLevel"]).toBe(1);
    expect(CalicoResourceSchema.safeParse(sample).success).toBe(true);
  });

  it("keep unknown fields at every depth", () => {
    const wep = storedWorkloadEndpoint();
    const input = {
      ...wep,
      metadata: { ...wep.metadata, managedFields: [{ manager: "calico" }] },
      spec: { ...wep.spec, qosControls: { ingressBandwidth: 1000 } },
    };
    const parsed = WorkloadEndpointSchema.parse(input);
    expect(parsed.metadata["managedFields"]).toEqual([{ manager: "calico" }]);
    expect(parsed.spec["qosControls"]).toEqual({ ingressBandwidth: 1000 });
  });

  it.each<
    [
      string,
      { safeParse(v: unknown): { success: boolean; error?: { issues: { path: PropertyKey[] }[] } } },
      unknown,
      string,
    ]
  >([
    [
      "WEP without namespace",
      WorkloadEndpointSchema,
      { ...storedWorkloadEndpoint(), metadata: { name: "x" } },
      "metadata.namespace",
    ],
    [
      "WEP ipNetworks as a string",
      WorkloadEndpointSchema,
      { ...storedWorkloadEndpoint(), spec: { ipNetworks: "10.0.0.1/32" } },
      "spec.ipNetworks",
    ],
    [
      "WEP profiles with a number",
      WorkloadEndpointSchema,
      { ...storedWorkloadEndpoint(), spec: { profiles: ["kns.a", 3] } },
      "spec.profiles.1",
    ],
    [
      "WEP port out of range",
      WorkloadEndpointSchema,
      { ...storedWorkloadEndpoint(), spec: { ports: [{ name: "h", protocol: "TCP", port: 70000 }] } },
      "spec.ports.0.port",
    ],
    [
      "HEP expectedIPs as text",
      HostEndpointSchema,
      { ...storedHostEndpoint(), spec: { expectedIPs: "1.2.3.4" } },
      "spec.expectedIPs",
    ],
    [
      "HEP with the wrong apiVersion",
      HostEndpointSchema,
      { ...storedHostEndpoint(), apiVersion: "crd.projectcalico.org/v1" },
      "apiVersion",
    ],
    [
      "Profile labelsToApply values as numbers",
      ProfileSchema,
      { ...storedNamespaceProfile(), spec: { labelsToApply: { a: 1 } } },
      "spec.labelsToApply.a",
    ],
    [
      "Profile rule without action",
      ProfileSchema,
      { ...storedNamespaceProfile(), spec: { ingress: [{}] } },
      "spec.ingress.0.action",
    ],
    [
      "policy with an unknown action",
      NetworkPolicySchema,
      { ...samples.NetworkPolicy, spec: { ingress: [{ action: "Accept" }] } },
      "spec.ingress.0.action",
    ],
    [
      "policy order as text",
      GlobalNetworkPolicySchema,
      { ...samples.GlobalNetworkPolicy, spec: { order: "10" } },
      "spec.order",
    ],
    [
      "policy types with a typo",
      GlobalNetworkPolicySchema,
      { ...samples.GlobalNetworkPolicy, spec: { types: ["ingress"] } },
      "spec.types.0",
    ],
    [
      "doNotTrack as text",
      GlobalNetworkPolicySchema,
      { ...samples.GlobalNetworkPolicy, spec: { doNotTrack: "true" } },
      "spec.doNotTrack",
    ],
    [
      "serviceAccounts.names as text",
      GlobalNetworkPolicySchema,
      {
        ...samples.GlobalNetworkPolicy,
        spec: { egress: [{ action: "Allow", source: { serviceAccounts: { names: "a" } } }] },
      },
      "spec.egress.0.source.serviceAccounts.names",
    ],
    ["IPPool without cidr", IPPoolSchema, { ...samples.IPPool, spec: {} }, "spec.cidr"],
    ["Node addresses as text", NodeSchema, { ...samples.Node, spec: { addresses: "10.0.0.1" } }, "spec.addresses"],
  ])("reject %s", (_label, schema, input, path) => {
    const result = schema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join("."))).toContain(path);
  });

  it("default a missing spec to an empty one (Go writes `spec: {}`, other tools omit it)", () => {
    expect(ProfileSchema.parse({ apiVersion: v3, kind: "Profile", metadata: { name: "p" } }).spec).toEqual({});
  });
});

describe("parseCalicoResource", () => {
  it("tells kinds apart", () => {
    const result = parseCalicoResource(samples.IPPool);
    expect(result.success && result.data.kind).toBe("IPPool");
  });

  it.each<[unknown, string, RegExp]>([
    [{ ...samples.Tier, kind: "BGPPeer" }, "kind", /must be one of "WorkloadEndpoint", "HostEndpoint"/],
    [{ ...samples.Tier, spec: { order: "first" } }, "spec.order", /order must be a number, not the text "first"/],
    [[samples.Tier], "", /expected a Calico resource, not a list/],
    [
      { ...storedWorkloadEndpoint(), metadata: { name: "x", labels: { "app.kubernetes.io/name": 1 } } },
      'metadata.labels["app.kubernetes.io/name"]',
      /must be text/,
    ],
  ])("explains what is wrong with %j", (input, path, message) => {
    const result = parseCalicoResource(input);
    expect(result.success).toBe(false);
    const issue = result.success ? undefined : result.issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(result)).toBeDefined();
    expect(issue?.message).toMatch(message);
  });
});

describe("resource IDs", () => {
  it.each([
    ["WorkloadEndpoint", { namespace: "shop", name: "w-k8s-p-eth0" }, "shop/w-k8s-p-eth0"],
    ["Profile", { name: "kns.shop" }, "kns.shop"],
    ["Profile", { name: "cluster-b/kns.shop" }, "cluster-b/kns.shop"],
    ["NetworkPolicy", { namespace: "shop", name: "default.allow" }, "shop/default.allow"],
  ] as const)("%s %o ↔ %s", (kind, ref, id) => {
    expect(resourceId(ref)).toBe(id);
    expect(parseResourceId(kind, id)).toEqual(ref);
  });

  it.each([
    ["WorkloadEndpoint", "no-namespace"],
    ["WorkloadEndpoint", "a/b/c"],
    ["WorkloadEndpoint", "/x"],
    ["Profile", ""],
  ] as const)("parseResourceId(%s, %j) is null", (kind, id) => {
    expect(parseResourceId(kind, id)).toBeNull();
  });

  it("takes a resource's ref from its metadata", () => {
    expect(resourceRef(storedWorkloadEndpoint())).toEqual({
      namespace: "shop",
      name: storedWorkloadEndpoint().metadata.name,
    });
    expect(resourceRef(storedHostEndpoint())).toEqual({ name: "worker-1-eth0" });
  });
});
