import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  encodeWorkloadEndpointName,
  parseWorkloadEndpointName,
  WorkloadEndpointNameError,
  type WorkloadEndpointNameParts,
} from "../src/index.js";

describe("encodeWorkloadEndpointName", () => {
  it.each<[WorkloadEndpointNameParts, string]>([
    [{ node: "node1", orchestrator: "k8s", workload: "pod-1", endpoint: "eth0" }, "node1-k8s-pod--1-eth0"],
    [{ node: "node1", orchestrator: "k8s", workload: "pod1", endpoint: "eth0" }, "node1-k8s-pod1-eth0"],
    [
      {
        node: "ip-10-0-1-17.ec2.internal",
        orchestrator: "k8s",
        workload: "coredns-5d78c9869d-4xw7n",
        endpoint: "eth0",
      },
      "ip--10--0--1--17.ec2.internal-k8s-coredns--5d78c9869d--4xw7n-eth0",
    ],
    [
      { node: "host-a", orchestrator: "openstack", workload: "vm-01", endpoint: "tap-1" },
      "host--a-openstack-vm--01-tap--1",
    ],
    [{ node: "n", orchestrator: "cni", workload: "c0ffee", endpoint: "eth0" }, "n-cni-c0ffee-eth0"],
    [{ node: "a-", orchestrator: "k8s", workload: "b", endpoint: "eth0" }, "a---k8s-b-eth0"],
    [{ node: "node1", orchestrator: "k8s-", workload: "pod", endpoint: "eth0" }, "node1-k8s---pod-eth0"],
  ])("encodes %o as %s", (parts, name) => {
    expect(encodeWorkloadEndpointName(parts)).toBe(name);
    expect(parseWorkloadEndpointName(name)).toEqual(parts);
  });

  it.each([
    [{ node: "", orchestrator: "k8s", workload: "p", endpoint: "eth0" }, /node is empty/],
    [{ node: "n", orchestrator: "k8s", workload: "", endpoint: "eth0" }, /workload is empty/],
    [{ node: "n", orchestrator: "k8s", workload: "-p", endpoint: "eth0" }, /starts with "-"/],
  ])("rejects parts that could not be split back: %o", (parts, message) => {
    expect(() => encodeWorkloadEndpointName(parts)).toThrow(WorkloadEndpointNameError);
    expect(() => encodeWorkloadEndpointName(parts)).toThrow(message);
  });
});

describe("parseWorkloadEndpointName", () => {
  it.each([
    ["node1-k8s-pod", "three segments"],
    ["node1-k8s-pod-eth0-extra", "five segments"],
    ["node1--k8s-pod-eth0", "a doubled dash swallowing a separator"],
    ["-node1-k8s-pod-eth0", "an empty first segment"],
    ["node1-k8s-pod-", "an empty last segment"],
    ["", "the empty string"],
    ["--node1-k8s-pod-eth0", "a first segment starting with a dash"],
  ])("returns null for %s (%s)", (name) => {
    expect(parseWorkloadEndpointName(name)).toBeNull();
  });

  // Kubernetes names: lower-case alphanumerics, '-' and '.', starting and ending alphanumeric.
  const dnsName = fc
    .array(fc.constantFrom(..."abcxyz019-."), { minLength: 0, maxLength: 20 })
    .map((chars) => `a${chars.join("")}z`);

  it("round-trips Kubernetes-style names (property)", () => {
    fc.assert(
      fc.property(dnsName, dnsName, dnsName, dnsName, (node, orchestrator, workload, endpoint) => {
        const parts = { node, orchestrator, workload, endpoint };
        const name = encodeWorkloadEndpointName(parts);
        expect(parseWorkloadEndpointName(name)).toEqual(parts);
      }),
    );
  });

  it("round-trips any segments without a leading dash, including trailing dashes (property)", () => {
    const segment = fc
      .string({ unit: fc.constantFrom("a", "b", "-", "."), minLength: 1, maxLength: 12 })
      .filter((s) => !s.startsWith("-"));
    fc.assert(
      fc.property(segment, segment, segment, segment, (node, orchestrator, workload, endpoint) => {
        const parts = { node, orchestrator, workload, endpoint };
        expect(parseWorkloadEndpointName(encodeWorkloadEndpointName(parts))).toEqual(parts);
      }),
    );
  });

  it("accepts only names that encode back to themselves (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", "-", "k"), maxLength: 16 }), (name) => {
        const parts = parseWorkloadEndpointName(name);
        if (parts !== null) expect(encodeWorkloadEndpointName(parts)).toBe(name);
      }),
    );
  });
});
