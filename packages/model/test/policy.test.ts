import { describe, expect, it } from "vitest";
import {
  DEFAULT_TIER,
  type GlobalNetworkPolicy,
  type NetworkPolicy,
  policyDisplayName,
  policyTier,
  qualifyPolicyName,
  tieredPolicyName,
  tierOfPolicyName,
} from "../src/index.js";

const v3 = "projectcalico.org/v3";

function gnp(name: string, tier?: string): GlobalNetworkPolicy {
  return { apiVersion: v3, kind: "GlobalNetworkPolicy", metadata: { name }, spec: tier === undefined ? {} : { tier } };
}
function np(namespace: string, name: string, tier?: string): NetworkPolicy {
  return {
    apiVersion: v3,
    kind: "NetworkPolicy",
    metadata: { name, namespace },
    spec: tier === undefined ? {} : { tier },
  };
}

describe("tier naming", () => {
  it.each([
    ["allow-dns", DEFAULT_TIER, "default.allow-dns"],
    ["default.allow-dns", DEFAULT_TIER, "default.allow-dns"],
    ["knp.default.allow-web", DEFAULT_TIER, "knp.default.allow-web"],
    ["block-egress", "security", "security.block-egress"],
    ["security.block-egress", "security", "security.block-egress"],
    ["default.x", "security", "security.default.x"],
  ])("tieredPolicyName(%j, %j) = %j", (name, tier, expected) => {
    expect(tieredPolicyName(name, tier)).toBe(expected);
  });

  it("uses the default tier when none is given", () => {
    expect(tieredPolicyName("allow-dns")).toBe("default.allow-dns");
  });

  it.each([
    ["security.block-egress", "security"],
    ["default.allow-dns", "default"],
    ["knp.default.allow-web", "default"],
    ["allow-dns", "default"],
  ])("tierOfPolicyName(%j) = %j", (name, tier) => {
    expect(tierOfPolicyName(name)).toBe(tier);
  });

  it.each<[string, GlobalNetworkPolicy | NetworkPolicy, string, string]>([
    ["a GNP in the default tier", gnp("allow-dns"), "default", "default.allow-dns"],
    ["a GNP stored with its prefix", gnp("security.block", "security"), "security", "security.block"],
    ["a GNP named without its prefix", gnp("block", "security"), "security", "security.block"],
    ["a namespaced policy", np("shop", "allow-web"), "default", "shop/default.allow-web"],
    [
      "a Kubernetes NetworkPolicy",
      np("shop", "knp.default.allow-web", "default"),
      "default",
      "shop/knp.default.allow-web",
    ],
  ])("names %s as calicoq does", (_label, policy, tier, display) => {
    expect(policyTier(policy)).toBe(tier);
    expect(policyDisplayName(policy)).toBe(display);
  });

  it.each([
    ["allow-dns", { name: "default.allow-dns" }],
    ["security.block", { name: "security.block" }],
    ["shop/allow-web", { namespace: "shop", name: "default.allow-web" }],
    ["shop/knp.default.allow-web", { namespace: "shop", name: "knp.default.allow-web" }],
  ])("qualifyPolicyName(%j) completes the tier as calicoq does", (input, expected) => {
    expect(qualifyPolicyName(input)).toEqual(expected);
  });
});
