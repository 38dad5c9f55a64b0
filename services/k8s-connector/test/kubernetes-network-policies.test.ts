/**
 * Kubernetes NetworkPolicies of the local cluster, as calicoq on a Kubernetes datastore sees them:
 * Calico NetworkPolicies `knp.default.<name>`. Every selector model's conversion writes is parsed by
 * `@fedview/selector` (model cannot depend on it) and, for label selectors, matches exactly the label
 * sets Kubernetes' own semantics match. Then the local source lists and watches them through
 * unchanged client-node on testkit's Kubernetes API test server.
 */
import {
  type EntityRule,
  KubernetesNetworkPolicySchema,
  kubernetesNetworkPolicyToCalico,
  type NetworkPolicy,
} from "@fedview/model";
import { parseSelector } from "@fedview/selector";
import type { SourceChange } from "@fedview/sync";
import { type KubeApiServer, startKubeApiServer, uniqueName } from "@fedview/testkit";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createKubernetesSource, KubeRbacError, type KubernetesConnectionMaterial } from "../src/index.js";
import {
  CALICO_NETWORK_POLICIES,
  collect,
  FEDVIEW_RULES,
  KUBERNETES_NETWORK_POLICIES,
  kubernetesNetworkPolicy,
  LOCAL_POLICY_RULES,
  logger,
  namespace,
} from "./fixtures.js";

const K8S = "projectcalico.org/orchestrator == 'k8s'";

/** Realistic policies: the Kubernetes documentation's recipes and what operators commonly write. */
const POLICIES: [string, Record<string, unknown>][] = [
  ["default deny ingress", { podSelector: {}, policyTypes: ["Ingress"] }],
  ["default deny all", { podSelector: {}, policyTypes: ["Ingress", "Egress"] }],
  ["allow all ingress", { podSelector: {}, ingress: [{}], policyTypes: ["Ingress"] }],
  [
    "the documentation's test-network-policy",
    {
      podSelector: { matchLabels: { role: "db" } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          from: [
            { ipBlock: { cidr: "172.17.0.0/16", except: ["172.17.1.0/24"] } },
            { namespaceSelector: { matchLabels: { project: "myproject" } } },
            { podSelector: { matchLabels: { role: "frontend" } } },
          ],
          ports: [{ protocol: "TCP", port: 6379 }],
        },
      ],
      egress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/24" } }], ports: [{ protocol: "TCP", port: 5978 }] }],
    },
  ],
  [
    "DNS egress to kube-dns in any namespace",
    {
      podSelector: { matchExpressions: [{ key: "app.kubernetes.io/part-of", operator: "Exists" }] },
      policyTypes: ["Egress"],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            },
          ],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    },
  ],
  [
    "metrics scraping from monitoring namespaces, named and ranged ports",
    {
      podSelector: {
        matchLabels: { "app.kubernetes.io/name": "shop" },
        matchExpressions: [
          { key: "track", operator: "NotIn", values: ["canary", "shadow"] },
          { key: "legacy", operator: "DoesNotExist" },
        ],
      },
      ingress: [
        {
          from: [
            { namespaceSelector: { matchExpressions: [{ key: "team", operator: "In", values: ["sre", "obs"] }] } },
          ],
          ports: [{ port: "metrics" }, { port: 9100, endPort: 9110 }, { port: 9111 }],
        },
        { from: [{ namespaceSelector: {} }] },
      ],
    },
  ],
];

function convert(ns: string, name: string, spec: Record<string, unknown>): NetworkPolicy {
  return kubernetesNetworkPolicyToCalico(KubernetesNetworkPolicySchema.parse(kubernetesNetworkPolicy(ns, name, spec)));
}

/** Every selector text of a converted policy, with where it sits. */
function selectorsOf(policy: NetworkPolicy): [string, string][] {
  const out: [string, string][] = [["selector", policy.spec.selector ?? ""]];
  for (const direction of ["ingress", "egress"] as const) {
    (policy.spec[direction] ?? []).forEach((rule, i) => {
      for (const side of ["source", "destination"] as const) {
        const entity: EntityRule | undefined = rule[side];
        if (entity?.selector !== undefined) out.push([`${direction}[${i}].${side}.selector`, entity.selector]);
        if (entity?.namespaceSelector !== undefined) {
          out.push([`${direction}[${i}].${side}.namespaceSelector`, entity.namespaceSelector]);
        }
      }
    });
  }
  return out;
}

describe("selectors written by kubernetesNetworkPolicyToCalico", () => {
  it.each(POLICIES)("parse with @fedview/selector: %s", (_label, spec) => {
    const selectors = selectorsOf(convert("shop", "p", spec));
    expect(selectors.length).toBeGreaterThan(0);
    for (const [where, text] of selectors) {
      expect(() => parseSelector(text), `${where}: ${text}`).not.toThrow();
    }
  });

  it.each<[string, Record<string, unknown>, Record<string, string>, boolean]>([
    ["a pod with the selected label", { matchLabels: { role: "db" } }, { role: "db" }, true],
    ["a pod without it", { matchLabels: { role: "db" } }, { role: "web" }, false],
    ["every pod, for an empty podSelector", {}, {}, true],
    ["a quoted value", { matchLabels: { note: "it's" } }, { note: "it's" }, true],
  ])("select as Kubernetes does: %s", (_label, podSelector, labels, expected) => {
    const selector = parseSelector(convert("shop", "p", { podSelector }).spec.selector ?? "");
    expect(selector.matches({ ...labels, "projectcalico.org/orchestrator": "k8s" })).toBe(expected);
    // Calico's applies-to selector never matches a host endpoint or a non-Kubernetes workload.
    expect(selector.matches(labels)).toBe(false);
  });

  // Kubernetes' label selector semantics, as the reference the converted selectors must agree with.
  type Requirement = { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] };
  function kubernetesMatches(
    selector: { matchLabels: Record<string, string>; matchExpressions: Requirement[] },
    labels: Record<string, string>,
  ): boolean {
    const has = (key: string) => Object.hasOwn(labels, key);
    const member = (r: Requirement) => has(r.key) && (r.values ?? []).includes(labels[r.key] ?? "");
    const holds: Record<Requirement["operator"], (r: Requirement) => boolean> = {
      In: member,
      NotIn: (r) => !member(r),
      Exists: (r) => has(r.key),
      DoesNotExist: (r) => !has(r.key),
    };
    return (
      Object.entries(selector.matchLabels).every(([k, v]) => has(k) && labels[k] === v) &&
      selector.matchExpressions.every((r) => holds[r.operator](r))
    );
  }

  const key = fc.constantFrom("app", "tier", "app.kubernetes.io/name", "example.com/team", "in", "has");
  const value = fc.constantFrom("", "web", "db", "v1.2", "a_b", "x-y");
  const requirement: fc.Arbitrary<Requirement> = fc.oneof(
    fc.record({
      key,
      operator: fc.constantFrom("In" as const, "NotIn" as const),
      values: fc.array(value, { minLength: 1, maxLength: 3 }),
    }),
    fc.record({ key, operator: fc.constantFrom("Exists" as const, "DoesNotExist" as const) }),
  );
  const labelSelector = fc.record({
    matchLabels: fc.dictionary(key, value, { maxKeys: 3 }),
    matchExpressions: fc.array(requirement, { maxLength: 3 }),
  });
  const labelSet = fc.dictionary(key, value, { maxKeys: 4 });

  it("match exactly the label sets Kubernetes' semantics match (pod and namespace selectors)", () => {
    fc.assert(
      fc.property(labelSelector, labelSet, (selector, labels) => {
        const expected = kubernetesMatches(selector, labels);
        const policy = convert("shop", "p", {
          podSelector: selector,
          ingress: [{ from: [{ namespaceSelector: selector }] }],
        });
        const applies = parseSelector(policy.spec.selector ?? "");
        const namespaces = parseSelector(policy.spec.ingress?.[0]?.source?.namespaceSelector ?? "");
        return (
          applies.matches({ ...labels, "projectcalico.org/orchestrator": "k8s" }) === expected &&
          namespaces.matches(labels) === expected
        );
      }),
      { numRuns: 500 },
    );
  });
});

describe("the local cluster's Kubernetes NetworkPolicies, through the Kubernetes source", () => {
  let server: KubeApiServer;
  let local: KubernetesConnectionMaterial;
  const signal = () => AbortSignal.timeout(30_000);

  beforeEach(async () => {
    server = await startKubeApiServer();
    const user = server.addServiceAccountUser("kube-system", uniqueName("fedview"));
    server.grant(user.name, [...FEDVIEW_RULES, ...LOCAL_POLICY_RULES]);
    local = { server: server.url, caCert: server.ca, token: user.token };
  });
  afterEach(async () => {
    await server[Symbol.asyncDispose]();
  });

  it("lists them beside Calico's policies as NetworkPolicy <ns>/knp.default.<name>, converted exactly", async () => {
    server.create("namespaces", namespace("shop"));
    server.create(
      KUBERNETES_NETWORK_POLICIES,
      kubernetesNetworkPolicy("shop", "api-allow", {
        podSelector: { matchLabels: { app: "api" } },
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ podSelector: { matchLabels: { app: "web" } } }], ports: [{ port: 8080 }] }],
      }),
    );
    server.create(CALICO_NETWORK_POLICIES, {
      apiVersion: "crd.projectcalico.org/v1",
      kind: "NetworkPolicy",
      metadata: { name: "default.api-allow", namespace: "shop" },
      spec: { selector: "app == 'api'" },
    });
    await using source = createKubernetesSource({ cluster: "_local", material: local, logger });
    const snapshot = await source.list(signal());
    expect(snapshot.malformed).toEqual([]);
    const policies = snapshot.resources.filter((r) => r.kind === "NetworkPolicy");
    expect(policies.map((r) => r.id).sort()).toEqual(["shop/default.api-allow", "shop/knp.default.api-allow"]);
    const knp = policies.find((r) => r.id === "shop/knp.default.api-allow");
    const stored = server.get(KUBERNETES_NETWORK_POLICIES, "api-allow", "shop") as {
      metadata: { uid: string; resourceVersion: string; creationTimestamp: string };
    };
    expect(knp?.revision).toBe(stored.metadata.resourceVersion);
    expect(knp?.resource).toEqual({
      apiVersion: "projectcalico.org/v3",
      kind: "NetworkPolicy",
      metadata: {
        name: "knp.default.api-allow",
        namespace: "shop",
        uid: stored.metadata.uid,
        resourceVersion: stored.metadata.resourceVersion,
        creationTimestamp: stored.metadata.creationTimestamp,
      },
      spec: {
        tier: "default",
        order: 1000,
        selector: `${K8S} && app == 'api'`,
        types: ["Ingress"],
        ingress: [
          {
            action: "Allow",
            protocol: "TCP",
            source: { selector: `${K8S} && app == 'web'` },
            destination: { ports: [8080] },
          },
        ],
      },
    });
    expect(
      server.requests().some((r) => r.verb === "list" && r.path === "/apis/networking.k8s.io/v1/networkpolicies"),
    ).toBe(true);
  });

  it("watches them: creations and changes as upserts, deletions as deletes of knp.default.<name>", async () => {
    await using source = createKubernetesSource({ cluster: "_local", material: local, logger });
    const snapshot = await source.list(signal());
    const stop = new AbortController();
    const changes = collect(source.watch(snapshot.revision, stop.signal), (all) =>
      all.some((c) => c.type === "delete"),
    );
    const deny = kubernetesNetworkPolicy("default", "deny-all", { podSelector: {}, policyTypes: ["Ingress"] });
    server.create(KUBERNETES_NETWORK_POLICIES, deny);
    server.update(KUBERNETES_NETWORK_POLICIES, {
      ...deny,
      spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
    });
    server.delete(KUBERNETES_NETWORK_POLICIES, "deny-all", "default");
    const seen = (await changes).filter((c) => c.type === "upsert" || c.type === "delete");
    stop.abort();
    const summary = (c: SourceChange) =>
      c.type === "upsert"
        ? ["upsert", c.resource.kind, c.resource.id, (c.resource.resource as NetworkPolicy).spec.types]
        : c.type === "delete"
          ? ["delete", c.kind, c.id]
          : [c.type];
    expect(seen.map(summary)).toEqual([
      ["upsert", "NetworkPolicy", "default/knp.default.deny-all", ["Ingress"]],
      ["upsert", "NetworkPolicy", "default/knp.default.deny-all", ["Ingress", "Egress"]],
      ["delete", "NetworkPolicy", "default/knp.default.deny-all"],
    ]);
  });

  it("reports one that fails the schema as malformed under its knp id, and keeps the rest", async () => {
    server.create(
      KUBERNETES_NETWORK_POLICIES,
      kubernetesNetworkPolicy("default", "sideways", { podSelector: {}, policyTypes: ["Sideways"] }),
    );
    server.create(KUBERNETES_NETWORK_POLICIES, kubernetesNetworkPolicy("default", "fine", { podSelector: {} }));
    await using source = createKubernetesSource({ cluster: "_local", material: local, logger });
    const snapshot = await source.list(signal());
    expect(snapshot.malformed).toEqual([
      {
        ref: "networkpolicies.networking.k8s.io default/sideways",
        kind: "NetworkPolicy",
        id: "default/knp.default.sideways",
        revision: expect.stringMatching(/^\d+$/),
        reason: expect.stringContaining("spec.policyTypes.0"),
      },
    ]);
    expect(snapshot.resources.map((r) => r.id)).toContain("default/knp.default.fine");
  });

  it("a remote cluster never reads them", async () => {
    server.create(KUBERNETES_NETWORK_POLICIES, kubernetesNetworkPolicy("default", "deny", { podSelector: {} }));
    await using source = createKubernetesSource({ cluster: "east", material: local, logger });
    const snapshot = await source.list(signal());
    expect(snapshot.resources.filter((r) => r.kind === "NetworkPolicy")).toEqual([]);
    expect(server.requests().some((r) => r.path.startsWith("/apis/networking.k8s.io/"))).toBe(false);
  });

  it("a 403 on them names networkpolicies in API group networking.k8s.io and the rule to add", async () => {
    const user = server.addServiceAccountUser("kube-system", uniqueName("fedview"));
    server.grant(user.name, [
      ...FEDVIEW_RULES,
      ...LOCAL_POLICY_RULES.filter((r) => !r.apiGroups.includes("networking.k8s.io")),
    ]);
    await using source = createKubernetesSource({
      cluster: "_local",
      material: { server: server.url, caCert: server.ca, token: user.token },
      logger,
    });
    const error = await source.list(signal()).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(KubeRbacError);
    expect((error as Error).message).toBe(
      `RBAC: the local cluster's credentials cannot list networkpolicies (API group "networking.k8s.io") at the cluster scope — add get/list/watch on "networkpolicies" in API group "networking.k8s.io" to the ClusterRole bound to fedview's ServiceAccount`,
    );
    expect(error).toMatchObject({ resource: "networkpolicies", group: "networking.k8s.io" });
  });
});
