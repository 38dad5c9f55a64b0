import { describe, expect, it } from "vitest";
import {
  KddConversionError,
  KubernetesNodeSchema,
  kubernetesNodeToCalico,
  NamespaceSchema,
  namespaceToProfile,
  type Pod,
  PodSchema,
  podIPNetworks,
  podToWorkloadEndpoint,
  ServiceAccountSchema,
  serviceAccountToProfile,
} from "../src/index.js";
import { frontendServiceAccount, kubernetesNode, runningPod, shopNamespace } from "./fixtures.js";

function pod(overrides: Parameters<typeof runningPod>[0] = {}): Pod {
  return PodSchema.parse(runningPod(overrides));
}

describe("podToWorkloadEndpoint", () => {
  it("converts a running pod exactly as Calico does", () => {
    expect(podToWorkloadEndpoint(pod())).toEqual({
      apiVersion: "projectcalico.org/v3",
      kind: "WorkloadEndpoint",
      metadata: {
        name: "worker--1-k8s-frontend--7d4b9c6f5--x2k8q-eth0",
        namespace: "shop",
        uid: "0b8c3a0e-5a8e-4c55-9d7b-1c2f3e4d5a6b",
        resourceVersion: "184467",
        creationTimestamp: "2025-03-14T09:26:53Z",
        labels: {
          app: "frontend",
          "pod-template-hash": "7d4b9c6f5",
          tier: "web",
          "projectcalico.org/namespace": "shop",
          "projectcalico.org/orchestrator": "k8s",
          "projectcalico.org/serviceaccount": "frontend",
        },
      },
      spec: {
        orchestrator: "k8s",
        node: "worker-1",
        pod: "frontend-7d4b9c6f5-x2k8q",
        endpoint: "eth0",
        serviceAccountName: "frontend",
        containerID: "3f9c1d0e8b7a",
        ipNetworks: ["10.244.1.17/32", "fd00:10:244:1::11/128"],
        profiles: ["kns.shop", "ksa.shop.frontend"],
        ports: [
          { name: "http", protocol: "TCP", port: 8080 },
          { name: "dns", protocol: "UDP", port: 53 },
        ],
      },
    });
  });

  it.each<[string, Parameters<typeof runningPod>[0], string[]]>([
    ["status.podIPs first", {}, ["10.244.1.17/32", "fd00:10:244:1::11/128"]],
    ["status.podIP without podIPs", { status: { podIPs: undefined } }, ["10.244.1.17/32"]],
    ["status.podIP with an empty podIPs", { status: { podIPs: [] } }, ["10.244.1.17/32"]],
    [
      "the podIPs annotation without status IPs",
      { status: { podIPs: undefined, podIP: undefined } },
      ["10.244.1.17/32", "fd00:10:244:1::11/128"],
    ],
    [
      "the podIP annotation last",
      {
        status: { podIPs: undefined, podIP: undefined },
        metadata: { annotations: { "cni.projectcalico.org/podIP": "10.244.1.17/32" } },
      },
      ["10.244.1.17/32"],
    ],
    [
      "no IPs at all (pending pod)",
      { status: { phase: "Pending", podIPs: undefined, podIP: undefined }, metadata: { annotations: {} } },
      [],
    ],
    ["no IPs for a Succeeded pod", { status: { phase: "Succeeded" } }, []],
    ["no IPs for a Failed pod", { status: { phase: "Failed" } }, []],
    [
      "IPs for a pod still Pending with an IP",
      { status: { phase: "Pending" } },
      ["10.244.1.17/32", "fd00:10:244:1::11/128"],
    ],
    [
      "canonical IPv6 and networks",
      { status: { podIPs: [{ ip: "FD00:0010:0244:0001:0000:0000:0000:0011" }, { ip: "10.244.1.17/24" }] } },
      ["fd00:10:244:1::11/128", "10.244.1.0/24"],
    ],
  ])("takes IPs from %s", (_label, overrides, ipNetworks) => {
    expect(podToWorkloadEndpoint(pod(overrides))?.spec.ipNetworks).toEqual(ipNetworks);
  });

  it.each<[string, Parameters<typeof runningPod>[0]]>([
    ["a host-network pod", { spec: { hostNetwork: true } }],
    [
      "an unscheduled pod",
      { spec: { nodeName: undefined }, status: { phase: "Pending", podIPs: undefined, podIP: undefined } },
    ],
    ["a pod with an empty nodeName", { spec: { nodeName: "" } }],
  ])("gives no endpoint for %s", (_label, overrides) => {
    expect(podToWorkloadEndpoint(pod(overrides))).toBeNull();
  });

  it("omits the service account label and profile for a pod without one", () => {
    const wep = podToWorkloadEndpoint(pod({ spec: { serviceAccountName: undefined } }));
    expect(wep?.spec.profiles).toEqual(["kns.shop"]);
    expect(wep?.spec.serviceAccountName).toBeUndefined();
    expect(wep?.metadata.labels?.["projectcalico.org/serviceaccount"]).toBeUndefined();
  });

  it("overrides pod labels that collide with the derived ones", () => {
    const wep = podToWorkloadEndpoint(
      pod({ metadata: { labels: { "projectcalico.org/namespace": "other", "projectcalico.org/orchestrator": "x" } } }),
    );
    expect(wep?.metadata.labels).toMatchObject({
      "projectcalico.org/namespace": "shop",
      "projectcalico.org/orchestrator": "k8s",
    });
  });

  it("does not let a __proto__ label change the prototype of the labels", () => {
    const wep = podToWorkloadEndpoint(
      pod({ metadata: { labels: JSON.parse('{"__proto__": {"polluted": "yes"}, "app": "a"}') } }),
    );
    expect(Object.getPrototypeOf(wep?.metadata.labels)).toBe(Object.prototype);
    expect(wep?.metadata.labels?.["polluted"]).toBeUndefined();
    expect(wep?.metadata.labels?.["app"]).toBe("a");
  });

  it("accepts objects deserialised by @kubernetes/client-node (Date timestamps, null maps)", () => {
    const raw = runningPod({
      metadata: { creationTimestamp: new Date("2025-03-14T09:26:53.000Z"), annotations: null },
    });
    const wep = podToWorkloadEndpoint(PodSchema.parse(raw));
    expect(wep?.metadata.creationTimestamp).toBe("2025-03-14T09:26:53Z");
  });

  it("throws KddConversionError for an IP that does not parse", () => {
    expect(() => podToWorkloadEndpoint(pod({ status: { podIPs: [{ ip: "10.244.1.300" }] } }))).toThrow(
      KddConversionError,
    );
  });
});

describe("podIPNetworks", () => {
  it.each([
    ["10.0.0.1", "10.0.0.1/32"],
    ["10.0.0.1/32", "10.0.0.1/32"],
    ["10.1.2.3/16", "10.1.0.0/16"],
    ["::1", "::1/128"],
    ["fd00::", "fd00::/128"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1/128"],
    ["2001:0:0:1::1", "2001:0:0:1::1/128"],
    ["::ffff:10.0.0.1", "::ffff:a00:1/128"],
    ["fd00:1:2:3:4:5:6:7/64", "fd00:1:2:3::/64"],
  ])("canonicalises %s as %s", (ip, network) => {
    expect(podIPNetworks(pod({ status: { podIPs: [{ ip }] } }))).toEqual([network]);
  });

  it.each([
    "10.0.0",
    "010.0.0.1",
    "10.0.0.1/33",
    "fd00::1::2",
    "fd00::1/129",
    "hello",
    "10.0.0.1/-1",
    "1:2:3:4:5:6:7:8:9",
  ])("rejects %s", (ip) => {
    expect(() => podIPNetworks(pod({ status: { podIPs: [{ ip }] } }))).toThrow(/does not parse/);
  });
});

describe("namespaceToProfile", () => {
  it("prefixes every namespace label with pcns. and adds the namespace name", () => {
    expect(namespaceToProfile(NamespaceSchema.parse(shopNamespace))).toEqual({
      apiVersion: "projectcalico.org/v3",
      kind: "Profile",
      metadata: {
        name: "kns.shop",
        uid: "5e0f7c2a-1111-4c55-9d7b-000000000001",
        resourceVersion: "1200",
        creationTimestamp: "2025-01-02T10:00:00Z",
      },
      spec: {
        ingress: [{ action: "Allow" }],
        egress: [{ action: "Allow" }],
        labelsToApply: {
          "pcns.kubernetes.io/metadata.name": "shop",
          "pcns.env": "prod",
          "pcns.projectcalico.org/name": "shop",
        },
      },
    });
  });

  it("lets the namespace name win over a label of the same key", () => {
    const ns = NamespaceSchema.parse({ metadata: { name: "shop", labels: { "projectcalico.org/name": "fake" } } });
    expect(namespaceToProfile(ns).spec.labelsToApply).toEqual({ "pcns.projectcalico.org/name": "shop" });
  });
});

describe("serviceAccountToProfile", () => {
  it("prefixes every service account label with pcsa. and adds the service account name", () => {
    expect(serviceAccountToProfile(ServiceAccountSchema.parse(frontendServiceAccount))).toEqual({
      apiVersion: "projectcalico.org/v3",
      kind: "Profile",
      metadata: {
        name: "ksa.shop.frontend",
        uid: "5e0f7c2a-2222-4c55-9d7b-000000000002",
        resourceVersion: "1300",
        creationTimestamp: "2025-01-02T10:05:00Z",
      },
      spec: { labelsToApply: { "pcsa.team": "storefront", "pcsa.projectcalico.org/name": "frontend" } },
    });
  });
});

describe("kubernetesNodeToCalico", () => {
  const convert = (overrides: Parameters<typeof kubernetesNode>[0] = {}) =>
    kubernetesNodeToCalico(KubernetesNodeSchema.parse(kubernetesNode(overrides)));
  const withAnnotations = (annotations: Record<string, string> | null) => convert({ metadata: { annotations } });

  it("converts a node with Calico's annotations exactly", () => {
    expect(convert()).toEqual({
      apiVersion: "projectcalico.org/v3",
      kind: "Node",
      metadata: {
        name: "worker-1",
        uid: "9c1b7e2d-3333-4c55-9d7b-000000000003",
        resourceVersion: "99120",
        creationTimestamp: "2025-01-02T09:00:00Z",
        labels: {
          "kubernetes.io/hostname": "worker-1",
          "kubernetes.io/os": "linux",
          "topology.kubernetes.io/zone": "eu-west-1a",
        },
      },
      spec: {
        bgp: { ipv4Address: "192.168.10.21/24" },
        ipv4VXLANTunnelAddr: "10.244.1.0",
        vxlanTunnelMACAddr: "66:3a:7f:0e:12:9b",
        addresses: [
          { address: "192.168.10.21/24", type: "CalicoNodeIP" },
          { address: "192.168.10.21", type: "InternalIP" },
        ],
        orchRefs: [{ nodeName: "worker-1", orchestrator: "k8s" }],
      },
    });
  });

  it.each<[string, Record<string, string>, Record<string, unknown>]>([
    [
      "an IPv6 BGP address",
      { "projectcalico.org/IPv6Address": "fd00:10::21/64" },
      { bgp: { ipv6Address: "fd00:10::21/64" } },
    ],
    ["a decimal AS number, as a number", { "projectcalico.org/ASNumber": "64512" }, { bgp: { asNumber: 64512 } }],
    [
      "an IPIP tunnel address",
      { "projectcalico.org/IPv4IPIPTunnelAddr": "10.244.1.1" },
      { bgp: { ipv4IPIPTunnelAddr: "10.244.1.1" } },
    ],
    [
      "a route reflector cluster ID",
      { "projectcalico.org/RouteReflectorClusterID": "224.0.0.1" },
      { bgp: { routeReflectorClusterID: "224.0.0.1" } },
    ],
    [
      "IPv6 VXLAN settings",
      {
        "projectcalico.org/IPv6VXLANTunnelAddr": "fd00:244::1",
        "projectcalico.org/VXLANTunnelMACAddrV6": "66:3a:7f:0e:12:9c",
      },
      { ipv6VXLANTunnelAddr: "fd00:244::1", vxlanTunnelMACAddrV6: "66:3a:7f:0e:12:9c" },
    ],
  ])("takes %s from its annotation", (_label, annotations, expected) => {
    expect(withAnnotations(annotations).spec).toMatchObject(expected);
  });

  it.each<[string, Record<string, string> | null]>([
    ["no annotations", null],
    ["only annotations of other components", { "node.alpha.kubernetes.io/ttl": "0" }],
    ["empty Calico annotations", { "projectcalico.org/IPv4Address": "", "projectcalico.org/IPv4VXLANTunnelAddr": "" }],
    ["an AS number that is not decimal", { "projectcalico.org/ASNumber": "AS64512" }],
  ])("has no BGP or tunnel settings with %s", (_label, annotations) => {
    expect(withAnnotations(annotations).spec).toEqual({
      addresses: [{ address: "192.168.10.21", type: "InternalIP" }],
      orchRefs: [{ nodeName: "worker-1", orchestrator: "k8s" }],
    });
  });

  it.each<[string, unknown, { address: string; type: string }[] | undefined]>([
    [
      "InternalIP and ExternalIP, in status order, after the BGP addresses",
      [
        { type: "ExternalIP", address: "203.0.113.21" },
        { type: "Hostname", address: "worker-1" },
        { type: "InternalIP", address: "192.168.10.21" },
        { type: "InternalDNS", address: "worker-1.eu-west-1.compute.internal" },
      ],
      [
        { address: "192.168.10.21/24", type: "CalicoNodeIP" },
        { address: "203.0.113.21", type: "ExternalIP" },
        { address: "192.168.10.21", type: "InternalIP" },
      ],
    ],
    ["none when status has none (null)", null, [{ address: "192.168.10.21/24", type: "CalicoNodeIP" }]],
  ])("carries %s", (_label, addresses, expected) => {
    expect(convert({ status: { addresses } }).spec.addresses).toEqual(expected);
  });

  it("gives a node without annotations or addresses only its orchestrator reference", () => {
    const node = KubernetesNodeSchema.parse({ metadata: { name: "bare" } });
    expect(kubernetesNodeToCalico(node)).toEqual({
      apiVersion: "projectcalico.org/v3",
      kind: "Node",
      metadata: { name: "bare" },
      spec: { orchRefs: [{ nodeName: "bare", orchestrator: "k8s" }] },
    });
  });

  it("accepts objects deserialised by @kubernetes/client-node (Date timestamps, null maps)", () => {
    const node = convert({ metadata: { creationTimestamp: new Date("2025-01-02T09:00:00.000Z"), labels: null } });
    expect(node.metadata.creationTimestamp).toBe("2025-01-02T09:00:00Z");
    expect(node.metadata).not.toHaveProperty("labels");
  });

  it("does not let a __proto__ label change the prototype of the labels", () => {
    const node = convert({ metadata: { labels: JSON.parse('{"__proto__": {"polluted": "yes"}, "os": "linux"}') } });
    expect(Object.getPrototypeOf(node.metadata.labels)).toBe(Object.prototype);
    expect(node.metadata.labels?.["polluted"]).toBeUndefined();
    expect(node.metadata.labels?.["os"]).toBe("linux");
  });
});

describe("Kubernetes input schemas", () => {
  it("keep fields they do not read", () => {
    const parsed = PodSchema.parse(runningPod());
    expect(parsed.spec["restartPolicy"]).toBe("Always");
    expect(parsed.status["qosClass"]).toBe("BestEffort");
    expect(parsed.metadata["ownerReferences"]).toHaveLength(1);
  });

  it.each<[string, unknown, string]>([
    ["a pod without a namespace", runningPod({ metadata: { namespace: undefined } }), "metadata.namespace"],
    ["a pod whose labels are a list", runningPod({ metadata: { labels: ["app"] } }), "metadata.labels"],
    [
      "a label value that is a number",
      runningPod({ metadata: { labels: { replicas: 3 } } }),
      "metadata.labels.replicas",
    ],
    ["hostNetwork given as text", runningPod({ spec: { hostNetwork: "true" } }), "spec.hostNetwork"],
    ["podIPs without ip", runningPod({ status: { podIPs: [{ address: "10.0.0.1" }] } }), "status.podIPs[0].ip"],
    ["another kind", { ...runningPod(), kind: "Deployment" }, "kind"],
    ["a service account without a namespace", { metadata: { name: "x" } }, "metadata.namespace"],
    ["a node of another kind", { ...kubernetesNode(), kind: "Pod" }, "kind"],
    [
      "a node address without its address",
      kubernetesNode({ status: { addresses: [{ type: "InternalIP" }] } }),
      "status.addresses[0].address",
    ],
    ["a node without a name", kubernetesNode({ metadata: { name: "" } }), "metadata.name"],
  ])("reject %s", (label, input, path) => {
    const schema = label.startsWith("a service account")
      ? ServiceAccountSchema
      : label.startsWith("a node")
        ? KubernetesNodeSchema
        : PodSchema;
    const result = schema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join("."))).toContain(path.replace(/\[(\d+)\]/g, ".$1"));
  });
});
