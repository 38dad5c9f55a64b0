import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyClusterPrefix,
  ClusterNameError,
  type HostEndpoint,
  hostEndpointDisplayName,
  hostEndpointIdentity,
  isValidClusterName,
  LOCAL_CLUSTER,
  stripClusterPrefix,
  toFederated,
  type WorkloadEndpoint,
  workloadEndpointDisplayName,
  workloadEndpointIdentity,
  workloadEndpointShortDisplayName,
} from "../src/index.js";
import { storedHostEndpoint, storedWorkloadEndpoint } from "./fixtures.js";

describe("cluster names", () => {
  it.each([
    ["cluster-b", true],
    ["east1", true],
    ["a", true],
    ["a".repeat(63), true],
    ["a".repeat(64), false],
    ["Cluster-B", false],
    ["-cluster", false],
    ["cluster-", false],
    ["cluster.b", false],
    ["cluster_b", false],
    ["", false],
    [LOCAL_CLUSTER, false],
  ])("isValidClusterName(%j) is %s", (name, valid) => {
    expect(isValidClusterName(name)).toBe(valid);
  });

  it("reserves _local for the local cluster, which gets no prefix", () => {
    expect(LOCAL_CLUSTER).toBe("_local");
    expect(applyClusterPrefix(LOCAL_CLUSTER, "worker-1")).toBe("worker-1");
    expect(applyClusterPrefix("cluster-b", "worker-1")).toBe("cluster-b/worker-1");
  });

  it.each(["Bad", "", "a/b", "_other"])("refuses to prefix with %j", (cluster) => {
    expect(() => applyClusterPrefix(cluster, "x")).toThrow(ClusterNameError);
  });

  it.each([
    ["cluster-b/worker-1", { cluster: "cluster-b", name: "worker-1" }],
    ["cluster-b/kns.shop", { cluster: "cluster-b", name: "kns.shop" }],
    ["kns.shop", { cluster: LOCAL_CLUSTER, name: "kns.shop" }],
    ["Not_A_Cluster/x", { cluster: LOCAL_CLUSTER, name: "Not_A_Cluster/x" }],
    ["/x", { cluster: LOCAL_CLUSTER, name: "/x" }],
  ])("stripClusterPrefix(%j)", (id, expected) => {
    expect(stripClusterPrefix(id)).toEqual(expected);
  });

  const cluster = fc.oneof(fc.constant(LOCAL_CLUSTER), fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/));
  const calicoName = fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,40}[a-z0-9])?$/);

  it("strips what it applies (property)", () => {
    fc.assert(
      fc.property(cluster, calicoName, (c, name) => {
        expect(stripClusterPrefix(applyClusterPrefix(c, name))).toEqual({ cluster: c, name });
      }),
    );
  });
});

describe("calicoq display names", () => {
  const wep = storedWorkloadEndpoint();
  const hep = storedHostEndpoint();

  it.each<[string, WorkloadEndpoint, string | undefined, string]>([
    ["a local endpoint", wep, undefined, "worker-1/k8s/shop.frontend-7d4b9c6f5-x2k8q/eth0"],
    ["a local endpoint, cluster given", wep, LOCAL_CLUSTER, "worker-1/k8s/shop.frontend-7d4b9c6f5-x2k8q/eth0"],
    ["a raw remote endpoint", wep, "cluster-b", "cluster-b/worker-1/k8s/shop.frontend-7d4b9c6f5-x2k8q/eth0"],
    [
      "a federated remote endpoint",
      toFederated("cluster-b", wep) as WorkloadEndpoint,
      undefined,
      "cluster-b/worker-1/k8s/shop.frontend-7d4b9c6f5-x2k8q/eth0",
    ],
    [
      "a federated remote endpoint, cluster given again",
      toFederated("cluster-b", wep) as WorkloadEndpoint,
      "cluster-b",
      "cluster-b/worker-1/k8s/shop.frontend-7d4b9c6f5-x2k8q/eth0",
    ],
  ])("workload endpoint: %s", (_label, endpoint, cluster, expected) => {
    expect(workloadEndpointDisplayName(endpoint, cluster)).toBe(expected);
  });

  it("identifies a workload endpoint the way calicoq's JSON does", () => {
    expect(workloadEndpointIdentity(wep, "cluster-b")).toEqual({
      cluster: "cluster-b",
      node: "worker-1",
      host: "cluster-b/worker-1",
      orchestrator: "k8s",
      workload: "shop/frontend-7d4b9c6f5-x2k8q",
      endpoint: "eth0",
    });
  });

  it("gives the host-less heading used by `endpoint` and `host`", () => {
    expect(workloadEndpointShortDisplayName(toFederated("cluster-b", wep) as WorkloadEndpoint)).toBe(
      "k8s/shop.frontend-7d4b9c6f5-x2k8q/eth0",
    );
  });

  it("falls back to the spec when the name is not in the canonical encoding", () => {
    const odd: WorkloadEndpoint = { ...wep, metadata: { ...wep.metadata, name: "custom" } };
    expect(workloadEndpointDisplayName(odd)).toBe("worker-1/k8s/shop.frontend-7d4b9c6f5-x2k8q/eth0");
  });

  it("uses a non-Kubernetes workload ID from the name", () => {
    const vm: WorkloadEndpoint = {
      apiVersion: "projectcalico.org/v3",
      kind: "WorkloadEndpoint",
      metadata: { name: "compute--3-openstack-instance--0001-tapa1b2", namespace: "tenant-a" },
      spec: { node: "compute-3", orchestrator: "openstack", workload: "instance-0001", endpoint: "tapa1b2" },
    };
    expect(workloadEndpointDisplayName(vm)).toBe("compute-3/openstack/tenant-a.instance-0001/tapa1b2");
  });

  it.each<[string, HostEndpoint, string | undefined, string]>([
    ["local", hep, undefined, "worker-1/worker-1-eth0"],
    ["raw remote", hep, "cluster-b", "cluster-b/worker-1/worker-1-eth0"],
    ["federated remote", toFederated("cluster-b", hep) as HostEndpoint, undefined, "cluster-b/worker-1/worker-1-eth0"],
  ])("host endpoint: %s", (_label, endpoint, cluster, expected) => {
    expect(hostEndpointDisplayName(endpoint, cluster)).toBe(expected);
  });

  it("identifies a host endpoint by node and name", () => {
    expect(hostEndpointIdentity(toFederated("east1", hep) as HostEndpoint)).toEqual({
      cluster: "east1",
      node: "worker-1",
      host: "east1/worker-1",
      name: "worker-1-eth0",
    });
  });

  it("rejects an invalid cluster", () => {
    expect(() => workloadEndpointDisplayName(wep, "Bad Cluster")).toThrow(ClusterNameError);
  });
});
