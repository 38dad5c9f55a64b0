import { describe, expect, it } from "vitest";
import {
  effectiveLabels,
  endpointOwnLabels,
  endpointProfileIds,
  type Labels,
  profileLabels,
  toFederated,
  type WorkloadEndpoint,
  workloadEndpointOwnLabels,
} from "../src/index.js";
import { storedHostEndpoint, storedNamespaceProfile, storedWorkloadEndpoint } from "./fixtures.js";

describe("own labels", () => {
  it.each<[string, Partial<WorkloadEndpoint["metadata"]>, Partial<WorkloadEndpoint["spec"]>, Labels]>([
    [
      "a stored Kubernetes endpoint",
      {},
      {},
      {
        app: "frontend",
        "projectcalico.org/namespace": "shop",
        "projectcalico.org/orchestrator": "k8s",
        "projectcalico.org/serviceaccount": "frontend",
      },
    ],
    [
      "an endpoint written without the implicit labels",
      { labels: { app: "frontend" } },
      { serviceAccountName: undefined },
      { app: "frontend", "projectcalico.org/namespace": "shop", "projectcalico.org/orchestrator": "k8s" },
    ],
    [
      "the orchestrator from the name when the spec lacks it",
      { labels: {} },
      { orchestrator: undefined, serviceAccountName: undefined },
      { "projectcalico.org/namespace": "shop", "projectcalico.org/orchestrator": "k8s" },
    ],
    [
      "a namespace label that disagrees with metadata.namespace",
      { labels: { "projectcalico.org/namespace": "kube-system" } },
      { serviceAccountName: undefined },
      { "projectcalico.org/namespace": "shop", "projectcalico.org/orchestrator": "k8s" },
    ],
    [
      "profile-style labels on the endpoint itself",
      { labels: { "pcns.env": "prod", "pcsa.team": "x", keep: "y" } },
      { serviceAccountName: undefined },
      { keep: "y", "projectcalico.org/namespace": "shop", "projectcalico.org/orchestrator": "k8s" },
    ],
  ])("of %s", (_label, metadata, spec, expected) => {
    const base = storedWorkloadEndpoint();
    const wep: WorkloadEndpoint = {
      ...base,
      metadata: { ...base.metadata, ...metadata },
      spec: { ...base.spec, ...spec },
    };
    expect(workloadEndpointOwnLabels(wep)).toEqual(expected);
    expect(endpointOwnLabels(wep)).toEqual(expected);
  });

  it("of a host endpoint are its labels unchanged", () => {
    expect(endpointOwnLabels(storedHostEndpoint())).toEqual({ role: "worker", "host-endpoint": "ingress" });
  });

  it("are the labels a federated endpoint already carries", () => {
    const federated = toFederated("cluster-b", storedWorkloadEndpoint()) as WorkloadEndpoint;
    expect(workloadEndpointOwnLabels(federated)).toEqual(federated.metadata.labels);
  });
});

describe("inheritance", () => {
  it("lists profile IDs in order, prefixed once federated", () => {
    expect(endpointProfileIds(storedWorkloadEndpoint())).toEqual(["kns.shop", "ksa.shop.frontend"]);
    expect(endpointProfileIds(toFederated("east1", storedHostEndpoint()) as never)).toEqual(["east1/hep-default"]);
  });

  it("reads a profile's labelsToApply", () => {
    expect(profileLabels(storedNamespaceProfile())).toEqual({
      "pcns.env": "prod",
      "pcns.projectcalico.org/name": "shop",
    });
  });

  it.each<[string, Labels, (Labels | undefined)[], Labels]>([
    ["own labels win over profiles", { env: "dev" }, [{ env: "prod", zone: "a" }], { env: "dev", zone: "a" }],
    ["the first profile wins over later ones", {}, [{ zone: "a" }, { zone: "b", rack: "7" }], { zone: "a", rack: "7" }],
    ["a missing profile is skipped", { app: "x" }, [undefined, { team: "t" }], { app: "x", team: "t" }],
    ["no profiles", { app: "x" }, [], { app: "x" }],
  ])("%s", (_label, own, inherited, expected) => {
    expect(effectiveLabels(own, inherited)).toEqual(expected);
  });

  it("stores a __proto__ label as an ordinary key", () => {
    const own: Labels = {};
    Object.defineProperty(own, "__proto__", { value: "x", enumerable: true });
    const result = effectiveLabels(own, [{ a: "b" }]);
    expect(Object.getPrototypeOf(result)).toBe(Object.prototype);
    expect(Object.keys(result).sort()).toEqual(["__proto__", "a"]);
  });
});
