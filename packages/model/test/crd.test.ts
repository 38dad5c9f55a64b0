import { describe, expect, it } from "vitest";
import { fromCrdResource, hostEndpointFromCrd, toCrdResource } from "../src/index.js";
import { storedHostEndpoint } from "./fixtures.js";

/** A HostEndpoint custom resource as `kubectl get hostendpoints.crd.projectcalico.org -o json` shows it. */
function crdHostEndpoint(metadata: Record<string, unknown> = {}) {
  return {
    apiVersion: "crd.projectcalico.org/v1",
    kind: "HostEndpoint",
    metadata: {
      name: "worker-1-eth0",
      uid: "d1d2d3",
      resourceVersion: "5521",
      generation: 1,
      creationTimestamp: "2025-03-01T12:00:00Z",
      labels: { role: "worker" },
      ...metadata,
    },
    spec: { node: "worker-1", interfaceName: "eth0", expectedIPs: ["192.168.10.21"], profiles: ["hep-default"] },
  };
}

describe("hostEndpointFromCrd", () => {
  it("turns the custom resource into a v3 HostEndpoint", () => {
    expect(hostEndpointFromCrd(crdHostEndpoint())).toEqual({
      success: true,
      data: {
        apiVersion: "projectcalico.org/v3",
        kind: "HostEndpoint",
        metadata: {
          name: "worker-1-eth0",
          uid: "d1d2d3",
          resourceVersion: "5521",
          generation: 1,
          creationTimestamp: "2025-03-01T12:00:00Z",
          labels: { role: "worker" },
        },
        spec: { node: "worker-1", interfaceName: "eth0", expectedIPs: ["192.168.10.21"], profiles: ["hep-default"] },
      },
    });
  });

  it("restores labels and annotations Calico stashed in projectcalico.org/metadata", () => {
    const stash = JSON.stringify({
      uid: "original-uid",
      labels: { role: "worker", "host-endpoint": "ingress" },
      annotations: { owner: "ops" },
    });
    const result = hostEndpointFromCrd(
      crdHostEndpoint({ annotations: { "projectcalico.org/metadata": stash }, labels: { role: "worker" } }),
    );
    expect(result.success && result.data.metadata).toMatchObject({
      name: "worker-1-eth0",
      resourceVersion: "5521",
      uid: "original-uid",
      labels: { role: "worker", "host-endpoint": "ingress" },
      annotations: { owner: "ops" },
    });
  });

  it("keeps plain annotations and ignores an unreadable stash", () => {
    const result = hostEndpointFromCrd(
      crdHostEndpoint({ annotations: { "projectcalico.org/metadata": "{oops", note: "n" } }),
    );
    expect(result.success && result.data.metadata.annotations).toEqual({ note: "n" });
    expect(result.success && result.data.metadata.labels).toEqual({ role: "worker" });
  });

  it.each<[string, unknown, string]>([
    ["another kind", { ...crdHostEndpoint(), kind: "IPPool" }, "kind"],
    ["the v3 apiVersion", { ...crdHostEndpoint(), apiVersion: "projectcalico.org/v3" }, "apiVersion"],
    ["a wrongly typed spec field", { ...crdHostEndpoint(), spec: { profiles: "x" } }, "spec.profiles"],
    ["not an object", "hostendpoint", ""],
  ])("rejects %s", (_label, input, path) => {
    const result = hostEndpointFromCrd(input);
    expect(result.success).toBe(false);
    expect(result.success ? [] : result.issues.map((i) => i.path)).toContain(path);
  });
});

/** What the API server adds to every custom resource it returns (server-side apply, older servers' self link). */
const API_SERVER_METADATA = {
  selfLink: "/apis/crd.projectcalico.org/v1/hostendpoints/worker-1-eth0",
  managedFields: [
    {
      manager: "calicoctl",
      operation: "Update",
      apiVersion: "crd.projectcalico.org/v1",
      time: "2025-03-01T12:00:00Z",
      fieldsType: "FieldsV1",
      fieldsV1: { "f:spec": { ".": {}, "f:node": {}, "f:interfaceName": {}, "f:expectedIPs": {} } },
    },
  ],
};

describe("fromCrdResource drops what only the API server writes", () => {
  it.each<[string, Record<string, unknown>]>([
    ["without a stash", {}],
    [
      "with Calico's metadata stash",
      { annotations: { "projectcalico.org/metadata": JSON.stringify({ annotations: { owner: "ops" } }) } },
    ],
    ["with a null managedFields", { managedFields: null }],
  ])("%s", (_label, extra) => {
    const result = fromCrdResource(crdHostEndpoint({ ...API_SERVER_METADATA, ...extra }));
    expect(result.success).toBe(true);
    const metadata = result.success ? result.data.metadata : {};
    expect(metadata).not.toHaveProperty("managedFields");
    expect(metadata).not.toHaveProperty("selfLink");
    expect(metadata).toMatchObject({ name: "worker-1-eth0", uid: "d1d2d3", resourceVersion: "5521", generation: 1 });
  });
});

describe("fromCrdResource / toCrdResource", () => {
  it("round-trips a v3 resource through its custom resource", () => {
    const hep = storedHostEndpoint();
    hep.metadata = { ...hep.metadata, annotations: { owner: "ops" } };
    const crd = toCrdResource(hep);
    expect(crd["apiVersion"]).toBe("crd.projectcalico.org/v1");
    expect(fromCrdResource(crd)).toEqual({ success: true, data: hep });
  });

  it("rejects a kind fedview does not read", () => {
    const result = fromCrdResource({ ...crdHostEndpoint(), kind: "BGPPeer" });
    expect(result.success ? "" : result.issues[0]?.message).toMatch(/not a Calico kind fedview reads/);
  });
});
