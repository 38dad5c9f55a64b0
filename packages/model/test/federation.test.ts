import { describe, expect, it } from "vitest";
import {
  type CalicoResource,
  ClusterNameError,
  type GlobalNetworkPolicy,
  type IPPool,
  LOCAL_CLUSTER,
  type Node,
  type Profile,
  toFederated,
  toFederatedWorkloadEndpoint,
  type WorkloadEndpoint,
} from "../src/index.js";
import { storedHostEndpoint, storedNamespaceProfile, storedWorkloadEndpoint } from "./fixtures.js";

describe("toFederated: workload endpoints", () => {
  it("prefixes node and profiles of a remote endpoint and keeps its name and namespace", () => {
    const out = toFederated("cluster-b", storedWorkloadEndpoint());
    expect(out?.metadata.name).toBe("worker--1-k8s-frontend--7d4b9c6f5--x2k8q-eth0");
    expect(out?.metadata.namespace).toBe("shop");
    expect(out?.spec.node).toBe("cluster-b/worker-1");
    expect(out?.spec.profiles).toEqual(["cluster-b/kns.shop", "cluster-b/ksa.shop.frontend"]);
    expect(out?.spec.ipNetworks).toEqual(["10.244.1.17/32"]);
    // Fields the model does not interpret travel unchanged.
    expect(out?.spec.interfaceName).toBe("cali1a2b3c4d5e6");
  });

  it("leaves local names unprefixed", () => {
    const out = toFederated(LOCAL_CLUSTER, storedWorkloadEndpoint());
    expect(out?.spec.node).toBe("worker-1");
    expect(out?.spec.profiles).toEqual(["kns.shop", "ksa.shop.frontend"]);
  });

  it.each([
    ["no ipNetworks", undefined],
    ["empty ipNetworks", []],
  ])("drops an endpoint with %s, local or remote", (_label, ipNetworks) => {
    const wep = storedWorkloadEndpoint();
    wep.spec = { ...wep.spec, ipNetworks };
    expect(toFederated("cluster-b", wep)).toBeNull();
    expect(toFederated(LOCAL_CLUSTER, wep)).toBeNull();
  });

  it.each<[string, Record<string, string>, string | undefined, Record<string, string>]>([
    [
      "drops pcns./pcsa. labels an endpoint tries to carry itself",
      { app: "frontend", "pcns.env": "prod", "pcsa.team": "x" },
      "frontend",
      {
        app: "frontend",
        "projectcalico.org/namespace": "shop",
        "projectcalico.org/orchestrator": "k8s",
        "projectcalico.org/serviceaccount": "frontend",
      },
    ],
    [
      "takes the service account label from spec.serviceAccountName",
      { app: "frontend", "projectcalico.org/serviceaccount": "forged" },
      "frontend",
      {
        app: "frontend",
        "projectcalico.org/namespace": "shop",
        "projectcalico.org/orchestrator": "k8s",
        "projectcalico.org/serviceaccount": "frontend",
      },
    ],
    [
      "drops a service account label the spec does not back",
      { app: "frontend", "projectcalico.org/serviceaccount": "forged" },
      undefined,
      { app: "frontend", "projectcalico.org/namespace": "shop", "projectcalico.org/orchestrator": "k8s" },
    ],
    [
      "adds the namespace and orchestrator labels when stored without them",
      {},
      undefined,
      { "projectcalico.org/namespace": "shop", "projectcalico.org/orchestrator": "k8s" },
    ],
  ])("%s", (_label, labels, serviceAccountName, expected) => {
    const wep = storedWorkloadEndpoint();
    wep.metadata = { ...wep.metadata, labels };
    wep.spec = { ...wep.spec, serviceAccountName };
    expect(toFederatedWorkloadEndpoint("cluster-b", wep)?.metadata.labels).toEqual(expected);
  });

  it("does not mutate its input", () => {
    const wep = storedWorkloadEndpoint();
    const before = structuredClone(wep);
    toFederated("cluster-b", wep);
    expect(wep).toEqual(before);
  });
});

describe("toFederated: host endpoints and profiles", () => {
  it("prefixes a remote host endpoint's node and profiles only", () => {
    const out = toFederated("cluster-b", storedHostEndpoint());
    expect(out).toEqual({
      ...storedHostEndpoint(),
      spec: { ...storedHostEndpoint().spec, node: "cluster-b/worker-1", profiles: ["cluster-b/hep-default"] },
    });
  });

  it("keeps only labelsToApply of a remote profile and prefixes its name", () => {
    const out = toFederated("cluster-b", storedNamespaceProfile()) as Profile;
    expect(out.metadata.name).toBe("cluster-b/kns.shop");
    expect(out.spec).toEqual({ labelsToApply: { "pcns.env": "prod", "pcns.projectcalico.org/name": "shop" } });
  });

  it("keeps a local profile whole", () => {
    expect(toFederated(LOCAL_CLUSTER, storedNamespaceProfile())).toEqual(storedNamespaceProfile());
  });
});

describe("toFederated: other kinds", () => {
  const node: Node = {
    apiVersion: "projectcalico.org/v3",
    kind: "Node",
    metadata: { name: "worker-1" },
    spec: { bgp: { ipv4Address: "192.168.10.21/24" }, ipv4VXLANTunnelAddr: "10.244.1.0" },
  };
  const pool: IPPool = {
    apiVersion: "projectcalico.org/v3",
    kind: "IPPool",
    metadata: { name: "default-ipv4-ippool" },
    spec: { cidr: "10.244.0.0/16", vxlanMode: "Always", natOutgoing: true },
  };
  const policy: GlobalNetworkPolicy = {
    apiVersion: "projectcalico.org/v3",
    kind: "GlobalNetworkPolicy",
    metadata: { name: "default.deny-all" },
    spec: { selector: "all()", types: ["Ingress"] },
  };

  it.each<[string, CalicoResource, string]>([
    ["Node", node, "cluster-b/worker-1"],
    ["IPPool", pool, "cluster-b/default-ipv4-ippool"],
  ])("prefixes the name of a remote %s (overlay routing)", (_kind, resource, name) => {
    expect(toFederated("cluster-b", resource)?.metadata.name).toBe(name);
    expect(toFederated(LOCAL_CLUSTER, resource)?.metadata.name).toBe(resource.metadata.name);
  });

  it("never lets a remote policy in, but passes local ones through", () => {
    expect(toFederated("cluster-b", policy)).toBeNull();
    expect(toFederated(LOCAL_CLUSTER, policy)).toBe(policy);
  });

  it("rejects an invalid cluster token", () => {
    expect(() => toFederated("Cluster B", storedWorkloadEndpoint())).toThrow(ClusterNameError);
  });

  it("keeps the resource type", () => {
    const out: WorkloadEndpoint | null = toFederated("cluster-b", storedWorkloadEndpoint());
    expect(out?.kind).toBe("WorkloadEndpoint");
  });
});
