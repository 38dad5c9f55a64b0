import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decodeEtcdResource,
  ETCD_RESOURCE_PREFIX,
  EtcdKeyError,
  encodeEtcdResource,
  etcdPrefix,
  parseEtcdKey,
  RESOURCE_KINDS,
  type ResourceKind,
  resourceKindInfo,
  toEtcdKey,
} from "../src/index.js";
import { storedWorkloadEndpoint } from "./fixtures.js";

const P = "/calico/resources/v3/projectcalico.org";

describe("toEtcdKey / parseEtcdKey", () => {
  it.each<[ResourceKind, { namespace?: string; name: string }, string]>([
    [
      "WorkloadEndpoint",
      { namespace: "shop", name: "worker--1-k8s-frontend-eth0" },
      `${P}/workloadendpoints/shop/worker--1-k8s-frontend-eth0`,
    ],
    ["HostEndpoint", { name: "worker-1-eth0" }, `${P}/hostendpoints/worker-1-eth0`],
    ["Profile", { name: "kns.shop" }, `${P}/profiles/kns.shop`],
    ["Node", { name: "worker-1" }, `${P}/nodes/worker-1`],
    ["NetworkPolicy", { namespace: "shop", name: "default.allow-web" }, `${P}/networkpolicies/shop/default.allow-web`],
    ["GlobalNetworkPolicy", { name: "security.deny-egress" }, `${P}/globalnetworkpolicies/security.deny-egress`],
    ["IPPool", { name: "default-ipv4-ippool" }, `${P}/ippools/default-ipv4-ippool`],
    ["Tier", { name: "security" }, `${P}/tiers/security`],
    ["NetworkSet", { namespace: "shop", name: "partners" }, `${P}/networksets/shop/partners`],
    ["GlobalNetworkSet", { name: "blocklist" }, `${P}/globalnetworksets/blocklist`],
    ["RemoteClusterConfiguration", { name: "cluster-b" }, `${P}/remoteclusterconfigurations/cluster-b`],
  ])("%s %o ↔ %s", (kind, ref, key) => {
    expect(toEtcdKey(kind, ref)).toBe(key);
    expect(parseEtcdKey(key)).toEqual({ kind, ...ref });
  });

  it("covers every kind with a distinct plural", () => {
    const plurals = RESOURCE_KINDS.map((kind) => resourceKindInfo[kind].plural);
    expect(new Set(plurals).size).toBe(RESOURCE_KINDS.length);
    expect(RESOURCE_KINDS.filter((kind) => resourceKindInfo[kind].namespaced)).toEqual([
      "WorkloadEndpoint",
      "NetworkPolicy",
      "NetworkSet",
    ]);
  });

  it.each([
    ["WorkloadEndpoint", { name: "x" }, /needs a namespace/],
    ["Profile", { namespace: "shop", name: "x" }, /not namespaced/],
    ["Profile", { name: "" }, /empty or contains/],
    ["Profile", { name: "a/b" }, /empty or contains/],
    ["NetworkPolicy", { namespace: "a/b", name: "x" }, /empty or contains/],
  ] as const)("refuses %s %o", (kind, ref, message) => {
    expect(() => toEtcdKey(kind, ref)).toThrow(EtcdKeyError);
    expect(() => toEtcdKey(kind, ref)).toThrow(message);
  });

  it.each([
    [`${P}/bgppeers/peer-1`, "a kind fedview does not read"],
    [`${P}/profiles/`, "an empty name"],
    [`${P}/profiles/a/b`, "too many segments for a global kind"],
    [`${P}/workloadendpoints/shop`, "a namespaced kind without a name"],
    [`${P}/workloadendpoints/shop/a/b`, "too many segments for a namespaced kind"],
    [`${P}/workloadendpoints//x`, "an empty namespace"],
    ["/calico/v1/host/worker-1/workload/k8s/x/endpoint/eth0", "the v1 layout"],
    ["/calico/resources/v3/projectcalico.org", "the bare prefix"],
  ])("parseEtcdKey(%s) is null (%s)", (key) => {
    expect(parseEtcdKey(key)).toBeNull();
  });

  const segment = fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,30}[a-z0-9])?$/);

  it("round-trips every kind (property)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...RESOURCE_KINDS), segment, segment, (kind, namespace, name) => {
        const ref = resourceKindInfo[kind].namespaced ? { namespace, name } : { name };
        const key = toEtcdKey(kind, ref);
        expect(key.startsWith(etcdPrefix(kind))).toBe(true);
        expect(parseEtcdKey(key)).toEqual({ kind, ...ref });
      }),
    );
  });
});

describe("etcdPrefix", () => {
  it("ends in a slash so that one plural never prefixes another", () => {
    expect(etcdPrefix("NetworkSet")).toBe(`${P}/networksets/`);
    expect(etcdPrefix("GlobalNetworkSet").startsWith(etcdPrefix("NetworkSet"))).toBe(false);
    expect(ETCD_RESOURCE_PREFIX).toBe(`${P}/`);
  });

  it("narrows a namespaced kind to one namespace", () => {
    expect(etcdPrefix("WorkloadEndpoint", "shop")).toBe(`${P}/workloadendpoints/shop/`);
    expect(() => etcdPrefix("Profile", "shop")).toThrow(EtcdKeyError);
  });
});

describe("encodeEtcdResource / decodeEtcdResource", () => {
  it("stores the whole object without resourceVersion and restores it from the ModRevision", () => {
    const wep = { ...storedWorkloadEndpoint() };
    wep.metadata = { ...wep.metadata, resourceVersion: "41" };
    const { key, value } = encodeEtcdResource(wep);
    expect(key).toBe(`${P}/workloadendpoints/shop/worker--1-k8s-frontend--7d4b9c6f5--x2k8q-eth0`);
    expect(JSON.parse(value).metadata.resourceVersion).toBeUndefined();
    const decoded = decodeEtcdResource(key, new TextEncoder().encode(value), 1234n);
    expect(decoded).toEqual({
      success: true,
      data: { ...wep, metadata: { ...wep.metadata, resourceVersion: "1234" } },
    });
  });

  it("takes name and namespace from the key", () => {
    const { value } = encodeEtcdResource(storedWorkloadEndpoint());
    const decoded = decodeEtcdResource(`${P}/workloadendpoints/other/renamed`, value);
    expect(decoded.success && decoded.data.metadata).toMatchObject({ name: "renamed", namespace: "other" });
  });

  it.each([
    [`${P}/bgppeers/x`, "{}", "key", /not a Calico v3 resource key/],
    [`${P}/profiles/x`, "{not json", "value", /not JSON/],
    [`${P}/profiles/x`, "[1]", "value", /not a JSON object/],
    [
      `${P}/profiles/x`,
      JSON.stringify({ apiVersion: "projectcalico.org/v3", kind: "Node", metadata: {}, spec: {} }),
      "kind",
      /holds Profile resources, but the value is a Node/,
    ],
    [
      `${P}/profiles/x`,
      JSON.stringify({
        apiVersion: "projectcalico.org/v3",
        kind: "Profile",
        metadata: {},
        spec: { labelsToApply: [] },
      }),
      "spec.labelsToApply",
      /must be a map/,
    ],
  ])("reports a bad entry at %s → %s", (key, value, path, message) => {
    const decoded = decodeEtcdResource(key, value);
    expect(decoded.success).toBe(false);
    if (!decoded.success) {
      expect(decoded.issues[0]?.path).toBe(path);
      expect(decoded.issues[0]?.message).toMatch(message);
    }
  });
});
