/** Conversion at the edge: ids of objects that cannot be converted, and what is hidden or malformed. */
import { describe, expect, it } from "vitest";
import {
  convertObject,
  federatedId,
  KUBE_RESOURCE_TYPES,
  type KubeResourceType,
  qualifiedResource,
} from "../src/index.js";
import { hostEndpoint, kubernetesNetworkPolicy, namespace, pod, running, serviceAccount } from "./fixtures.js";

/** A type by plural, or by `plural.group` where plurals are shared (`networkpolicies`). */
function typeOf(resource: string): KubeResourceType {
  const type =
    KUBE_RESOURCE_TYPES.find((t) => qualifiedResource(t) === resource) ??
    KUBE_RESOURCE_TYPES.find((t) => t.plural === resource && t.group === "crd.projectcalico.org");
  if (!type) throw new Error(`no type ${resource}`);
  return type;
}

const crd = (kind: string, name: string, spec: Record<string, unknown>, ns?: string) => ({
  apiVersion: "crd.projectcalico.org/v1",
  kind,
  metadata: { name, ...(ns ? { namespace: ns } : {}), resourceVersion: "7" },
  spec,
});

const OBJECTS: [string, object][] = [
  ["namespaces", namespace("app", { team: "a" })],
  ["serviceaccounts", serviceAccount("app", "web-sa")],
  ["pods", pod("app", "web-1", { status: running("10.0.0.1") })],
  ["hostendpoints", hostEndpoint("eth0.node-1", { node: "node-1", interfaceName: "eth0" })],
  ["nodes", { apiVersion: "v1", kind: "Node", metadata: { name: "node-1" } }],
  ["ippools", crd("IPPool", "pool-a", { cidr: "10.0.0.0/16" })],
  ["networkpolicies", crd("NetworkPolicy", "default.p", { selector: "all()" }, "app")],
  ["globalnetworkpolicies", crd("GlobalNetworkPolicy", "default.g", { selector: "all()" })],
  ["tiers", crd("Tier", "security", { order: 100 })],
  [
    "networkpolicies.networking.k8s.io",
    kubernetesNetworkPolicy("app", "deny-all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }),
  ],
];

describe("federatedId", () => {
  it.each(
    OBJECTS.flatMap(([plural, object]) => [
      ["east", plural, object],
      ["_local", plural, object],
    ]),
  )("in %s equals the id of the converted %s", (cluster, plural, object) => {
    const type = typeOf(plural as string);
    const converted = convertObject(cluster as string, type, object);
    // Remote clusters never serve policies or tiers; the local one converts everything.
    if (converted.type !== "resource") {
      expect(converted).toEqual({ type: "hidden", kind: type.kind, id: federatedId(cluster as string, type, object) });
      expect(cluster).toBe("east");
      expect(["networkpolicies", "globalnetworkpolicies", "tiers", "networkpolicies.networking.k8s.io"]).toContain(
        plural,
      );
      return;
    }
    expect(federatedId(cluster as string, type, object)).toBe(converted.id);
  });
});

describe("convertObject", () => {
  it.each([
    ["a pod without a node has no identity at all", "pods", pod("app", "p", { node: "" }), { type: "none" }],
    [
      "a host-network pod is hidden under its would-be id",
      "pods",
      pod("app", "p", { hostNetwork: true, status: running("192.168.0.1") }),
      { type: "hidden", kind: "WorkloadEndpoint", id: "app/node--1-k8s-p-eth0" },
    ],
    [
      "a pod without a namespace is malformed",
      "pods",
      { metadata: { name: "p" }, spec: { nodeName: "n" } },
      { type: "malformed", kind: "WorkloadEndpoint", reason: expect.stringContaining("metadata.namespace") },
    ],
    [
      "a namespace without a name is malformed",
      "namespaces",
      { metadata: {} },
      { type: "malformed", kind: "Profile", reason: expect.stringContaining("metadata.name") },
    ],
    [
      "a Kubernetes NetworkPolicy without a namespace is malformed, without an id",
      "networkpolicies.networking.k8s.io",
      { metadata: { name: "p" }, spec: { podSelector: {} } },
      { type: "malformed", kind: "NetworkPolicy", reason: expect.stringContaining("metadata.namespace") },
    ],
    [
      "a Calico NetworkPolicy custom resource is not a Kubernetes NetworkPolicy",
      "networkpolicies.networking.k8s.io",
      crd("NetworkPolicy", "default.p", { selector: "all()" }, "app"),
      {
        type: "malformed",
        kind: "NetworkPolicy",
        id: "app/knp.default.default.p",
        reason: expect.stringContaining("apiVersion"),
      },
    ],
    [
      "an object of another kind in a Calico CRD is malformed",
      "ippools",
      crd("HostEndpoint", "x", {}),
      { type: "malformed", kind: "IPPool", id: "east/x", reason: 'kind must be "IPPool", not "HostEndpoint"' },
    ],
  ])("%s", (_name, plural, object, expected) => {
    expect(convertObject("east", typeOf(plural), object)).toEqual(expected);
  });

  it("accepts client-node's typed objects, whose timestamps are Dates, with the same result as JSON", () => {
    const json = { ...namespace("app"), metadata: { name: "app", creationTimestamp: "2024-05-01T10:00:00Z" } };
    const typed = { ...json, metadata: { ...json.metadata, creationTimestamp: new Date("2024-05-01T10:00:00Z") } };
    const type = typeOf("namespaces");
    expect(convertObject("east", type, typed)).toEqual(convertObject("east", type, json));
  });

  it("accepts client-node's typed Kubernetes NetworkPolicies (Date timestamps, undefined fields) like JSON", () => {
    const json = kubernetesNetworkPolicy("app", "web", {
      podSelector: { matchLabels: { app: "web" } },
      ingress: [{ from: [{ namespaceSelector: {} }], ports: [{ protocol: "TCP", port: "http" }] }],
    });
    const stamped = { ...json, metadata: { ...json.metadata, creationTimestamp: "2024-05-01T10:00:00Z" } };
    const typed = {
      ...stamped,
      metadata: { ...stamped.metadata, creationTimestamp: new Date("2024-05-01T10:00:00Z"), labels: undefined },
      spec: { ...stamped.spec, egress: undefined, policyTypes: undefined },
    };
    const type = typeOf("networkpolicies.networking.k8s.io");
    const converted = convertObject("_local", type, typed);
    expect(converted).toEqual(convertObject("_local", type, stamped));
    expect(converted).toMatchObject({ type: "resource", kind: "NetworkPolicy", id: "app/knp.default.web" });
  });

  it("drops the API server's managedFields and selfLink from custom resources", () => {
    const object = hostEndpoint("h", { node: "n" });
    const withFields = {
      ...object,
      metadata: { ...object.metadata, managedFields: [{ manager: "kubectl" }], selfLink: "/apis/x/h" },
    };
    const converted = convertObject("east", typeOf("hostendpoints"), withFields);
    expect(converted.type === "resource" && (converted.resource as { metadata: object }).metadata).toEqual({
      name: "h",
    });
  });
});
