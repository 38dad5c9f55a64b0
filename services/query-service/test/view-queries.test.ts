/**
 * Golden results of the view's calicoq verbs on the realistic federation of `fixtures.ts`: local and
 * remote workload endpoints, host endpoints, namespace and service-account profiles, namespaced and
 * global policies in three tiers, rule selectors with namespaceSelector and serviceAccounts.
 */
import { SelectorParseError } from "@fedview/selector";
import { beforeAll, describe, expect, it } from "vitest";
import type {
  EndpointResult,
  EndpointsResult,
  PolicyRef,
  PolicyResult,
  QueryOptions,
  RuleMatch,
} from "../src/index.js";
import { FederatedView } from "../src/index.js";
import { allEvents, statuses } from "./fixtures.js";

function local(host: string, ns: string, pod: string): EndpointResult {
  return {
    node: host,
    orchestrator: "k8s",
    workload: `${ns}/${pod}`,
    name: "eth0",
    kind: "WorkloadEndpoint",
    display_name: `${host}/k8s/${ns}.${pod}/eth0`,
    short_name: `k8s/${ns}.${pod}/eth0`,
    cluster: "_local",
  };
}

function remote(cluster: string, host: string, ns: string, pod: string): EndpointResult {
  return {
    node: `${cluster}/${host}`,
    orchestrator: "k8s",
    workload: `${ns}/${pod}`,
    name: "eth0",
    remote_cluster: cluster,
    kind: "WorkloadEndpoint",
    display_name: `${cluster}/${host}/k8s/${ns}.${pod}/eth0`,
    short_name: `k8s/${ns}.${pod}/eth0`,
    cluster,
  };
}

function hep(cluster: string, host: string, name: string): EndpointResult {
  const node = cluster === "_local" ? host : `${cluster}/${host}`;
  return {
    node,
    name,
    ...(cluster === "_local" ? {} : { remote_cluster: cluster }),
    kind: "HostEndpoint",
    display_name: `${node}/${name}`,
    short_name: name,
    cluster,
  };
}

const E = {
  frontend: local("node-1", "prod", "frontend-7d4"),
  api: local("node-1", "prod", "api-5f9"),
  coredns: local("node-1", "kube-system", "coredns-1"),
  db: local("node-2", "prod", "db-0"),
  devApi: local("node-2", "dev", "api-6c1"),
  hep1: hep("_local", "node-1", "node-1-eth0"),
  hep2: hep("_local", "node-2", "node-2-eth0"),
  eastApi: remote("east", "node-a", "prod", "api-e1"),
  eastFrontend: remote("east", "node-a", "prod", "frontend-e1"),
  eastHep: hep("east", "node-a", "node-a-eth0"),
  westApi: remote("west", "node-x", "prod", "api-w1"),
};

const DEFAULT_TIER_ORDER = 1_000_000;

/** Policies in calicoq's order: untracked, then tier order, then policy order. */
const P = {
  untracked: {
    name: "default.host-untracked",
    order: 1,
    selector: 'host-endpoint == "true"',
    tier_name: "default",
    tier_order: DEFAULT_TIER_ORDER,
    untracked: true,
  },
  block: {
    name: "security.block-external",
    order: 10,
    selector: "has(app)",
    tier_name: "security",
    tier_order: 100,
  },
  allowApi: {
    name: "prod/default.allow-api",
    order: 100,
    selector: "(app == 'api') && projectcalico.org/namespace == 'prod'",
    tier_name: "default",
    tier_order: DEFAULT_TIER_ORDER,
  },
  dns: { name: "default.allow-dns", order: 500, selector: "", tier_name: "default", tier_order: DEFAULT_TIER_ORDER },
  db: {
    name: "prod/knp.default.db-access",
    selector: "(app == \"db\") && projectcalico.org/namespace == 'prod'",
    tier_name: "default",
    tier_order: DEFAULT_TIER_ORDER,
  },
  audit: { name: "platform.audit", selector: "all()", tier_name: "platform" },
} satisfies Record<string, PolicyRef>;

const R = {
  untrackedIn1: rule("default.host-untracked", "default", "inbound", "source", 1, 'app == "api"'),
  blockIn1: rule("security.block-external", "security", "inbound", "source", 1, 'pcns.env == "production"'),
  blockOut1: rule("security.block-external", "security", "outbound", "destination", 1, "role == 'gateway'"),
  apiIn1: rule(
    "prod/default.allow-api",
    "default",
    "inbound",
    "source",
    1,
    "(projectcalico.org/namespace == 'prod') && (app == 'frontend')",
  ),
  apiIn2: rule(
    "prod/default.allow-api",
    "default",
    "inbound",
    "source",
    2,
    "(projectcalico.org/namespace == 'prod') && " +
      '(pcsa.team == "payments" && projectcalico.org/serviceaccount in {"api", "default"})',
  ),
  apiOut1: rule("prod/default.allow-api", "default", "outbound", "destination", 1, "!has(projectcalico.org/namespace)"),
  dnsOut1: rule("default.allow-dns", "default", "outbound", "destination", 1, 'k8s-app == "kube-dns"'),
  dnsNotOut1: rule("default.allow-dns", "default", "outbound", "!destination", 1, 'app == "db"'),
  dbIn1: rule(
    "prod/knp.default.db-access",
    "default",
    "inbound",
    "source",
    1,
    '(has(projectcalico.org/namespace)) && (app == "api")',
  ),
};

function rule(
  policy_name: string,
  tier_name: string,
  direction: RuleMatch["direction"],
  selector_type: RuleMatch["selector_type"],
  order: number,
  selector: string,
): RuleMatch {
  return { policy_name, tier_name, direction, selector_type, order, selector };
}

function withReport(
  endpoint: EndpointResult,
  report: { policies?: PolicyRef[]; profiles?: string[]; rule_matches?: RuleMatch[] },
): EndpointResult {
  const out: EndpointResult = { ...endpoint };
  if (report.policies) out.policies = report.policies;
  if (report.profiles) out.profiles = report.profiles.map((name) => ({ name }));
  if (report.rule_matches) out.rule_matches = report.rule_matches;
  return out;
}

/** What `-s` and `-r` remove from a full result, applied to the expected value. */
function applyFlags<T>(value: T, options: QueryOptions): T {
  return JSON.parse(
    JSON.stringify(value, (key, v) => {
      if (options.hideSelectors && key === "selector") return undefined;
      if (options.hideRuleMatches && key === "rule_matches") return undefined;
      return v;
    }),
  ) as T;
}

const FLAGS: [string, QueryOptions][] = [
  ["no flags", {}],
  ["-s", { hideSelectors: true }],
  ["-r", { hideRuleMatches: true }],
  ["-rs", { hideSelectors: true, hideRuleMatches: true }],
];

let view: FederatedView;

beforeAll(() => {
  view = new FederatedView();
  for (const event of allEvents()) view.applyResourceEvent(event);
  for (const status of statuses()) view.applyClusterStatus(status);
});

describe("eval", () => {
  it.each([
    ['app == "api"', [E.eastApi, E.api, E.devApi, E.westApi]],
    // Inherited from the namespace profiles, in each cluster separately (west's prod is staging).
    ['pcns.env == "production"', [E.eastApi, E.eastFrontend, E.api, E.frontend, E.db]],
    ["has(host-endpoint)", [E.eastHep, E.hep1, E.hep2]],
    ["projectcalico.org/serviceaccount == 'api'", [E.eastApi, E.api]],
    ['pcsa.team == "payments"', [E.eastApi, E.api]],
    ["!has(projectcalico.org/namespace)", [E.eastHep, E.hep1, E.hep2]],
    [
      "all()",
      [E.eastApi, E.eastFrontend, E.eastHep, E.coredns, E.api, E.frontend, E.hep1, E.devApi, E.db, E.hep2, E.westApi],
    ],
    ['app == "nothing"', []],
  ])("%s", (selector, endpoints) => {
    expect(view.eval(selector)).toEqual({
      description: `Endpoints matching selector ${selector}`,
      endpoints,
      selector,
    });
  });

  it.each(["b == b", "has (a)", "foo == 'bar' &", "(a == 'foo'"])(
    "rejects %s with the selector's error",
    (selector) => {
      expect(() => view.eval(selector)).toThrow(SelectorParseError);
    },
  );

  it("ignores a workload endpoint without addresses (a finished pod)", () => {
    expect(view.eval("all()").endpoints.map((e) => e.workload)).not.toContain("prod/job-1");
  });
});

describe("policy", () => {
  const allowApi: PolicyResult = {
    description: 'Policy "prod/default.allow-api" applies to these endpoints',
    policy_applies_to_endpoints: [{ ...E.api, selector: P.allowApi.selector }],
    endpoints_match_policy: [
      withReport(E.eastApi, { rule_matches: [R.apiIn2] }),
      withReport(E.eastFrontend, { rule_matches: [R.apiIn1] }),
      withReport(E.eastHep, { rule_matches: [R.apiOut1] }),
      withReport(E.api, { rule_matches: [R.apiIn2] }),
      withReport(E.frontend, { rule_matches: [R.apiIn1] }),
      withReport(E.hep1, { rule_matches: [R.apiOut1] }),
      withReport(E.hep2, { rule_matches: [R.apiOut1] }),
    ],
    policy: { kind: "NetworkPolicy", name: "prod/default.allow-api", namespace: "prod", tier_name: "default" },
  };

  it.each(FLAGS)("namespaced policy, %s", (_, options) => {
    const expected = applyFlags(allowApi, options);
    if (options.hideRuleMatches) expected.endpoints_match_policy = [];
    expect(view.policy("prod/allow-api", options)).toEqual(expected);
  });

  const dns: PolicyResult = {
    description: 'Policy "default.allow-dns" applies to these endpoints',
    // An empty selector applies to every local endpoint and never to a remote one.
    policy_applies_to_endpoints: [E.coredns, E.api, E.frontend, E.hep1, E.devApi, E.db, E.hep2].map((e) => ({
      ...e,
      selector: "",
    })),
    endpoints_match_policy: [
      withReport(E.coredns, { rule_matches: [R.dnsOut1] }),
      withReport(E.db, { rule_matches: [R.dnsNotOut1] }),
    ],
    policy: { kind: "GlobalNetworkPolicy", name: "default.allow-dns", tier_name: "default" },
  };

  it.each(FLAGS)("global policy stored without its tier, %s", (_, options) => {
    const expected = applyFlags(dns, options);
    if (options.hideRuleMatches) expected.endpoints_match_policy = [];
    expect(view.policy("allow-dns", options)).toEqual(expected);
  });

  it.each([
    ["allow-dns", "default.allow-dns"],
    ["default.allow-dns", "default.allow-dns"],
    ["host-untracked", "default.host-untracked"],
    ["default.host-untracked", "default.host-untracked"],
    ["security.block-external", "security.block-external"],
    ["prod/knp.default.db-access", "prod/knp.default.db-access"],
    ["prod/default.allow-api", "prod/default.allow-api"],
  ])("resolves %s to %s", (input, name) => {
    expect(view.policy(input)?.policy.name).toBe(name);
  });

  it.each([
    ["an unknown name", "nope"],
    ["a namespaced name without its namespace", "allow-api"],
    ["a global name with a namespace", "prod/allow-dns"],
    ["the wrong namespace", "dev/allow-api"],
    ["a tier it is not in", "security.allow-dns"],
  ])("returns null for %s", (_, input) => {
    expect(view.policy(input)).toBeNull();
  });

  it("matches remote endpoints with rules of a namespaced policy with namespaceSelector all()", () => {
    expect(view.policy("prod/knp.default.db-access")).toEqual({
      description: 'Policy "prod/knp.default.db-access" applies to these endpoints',
      policy_applies_to_endpoints: [{ ...E.db, selector: P.db.selector }],
      endpoints_match_policy: [
        withReport(E.eastApi, { rule_matches: [R.dbIn1] }),
        withReport(E.api, { rule_matches: [R.dbIn1] }),
        withReport(E.devApi, { rule_matches: [R.dbIn1] }),
        withReport(E.westApi, { rule_matches: [R.dbIn1] }),
      ],
      policy: { kind: "NetworkPolicy", name: "prod/knp.default.db-access", namespace: "prod", tier_name: "default" },
    });
  });

  it("an untracked policy over host endpoints, with a rule matching local and remote workloads", () => {
    expect(view.policy("host-untracked")).toEqual({
      description: 'Policy "default.host-untracked" applies to these endpoints',
      policy_applies_to_endpoints: [E.hep1, E.hep2].map((e) => ({ ...e, selector: P.untracked.selector })),
      endpoints_match_policy: [E.eastApi, E.api, E.devApi, E.westApi].map((e) =>
        withReport(e, { rule_matches: [R.untrackedIn1] }),
      ),
      policy: { kind: "GlobalNetworkPolicy", name: "default.host-untracked", tier_name: "default" },
    });
  });
});

describe("endpoint and host", () => {
  // Every endpoint's full report, policies in calicoq's order, rules in the same order.
  const reports: Record<string, EndpointResult> = {
    api: withReport(E.api, {
      policies: [P.block, P.allowApi, P.dns, P.audit],
      profiles: ["kns.prod", "ksa.prod.api"],
      rule_matches: [R.untrackedIn1, R.blockIn1, R.apiIn2, R.dbIn1],
    }),
    frontend: withReport(E.frontend, {
      policies: [P.block, P.dns, P.audit],
      profiles: ["kns.prod", "ksa.prod.default"],
      rule_matches: [R.blockIn1, R.apiIn1],
    }),
    coredns: withReport(E.coredns, {
      policies: [P.dns, P.audit],
      profiles: ["kns.kube-system"],
      rule_matches: [R.dnsOut1],
    }),
    hep1: withReport(E.hep1, {
      policies: [P.untracked, P.dns, P.audit],
      rule_matches: [R.blockOut1, R.apiOut1],
    }),
    db: withReport(E.db, {
      policies: [P.block, P.dns, P.db, P.audit],
      profiles: ["kns.prod", "ksa.prod.default"],
      rule_matches: [R.blockIn1, R.dnsNotOut1],
    }),
    devApi: withReport(E.devApi, {
      policies: [P.block, P.dns, P.audit],
      profiles: ["kns.dev", "ksa.dev.default"],
      rule_matches: [R.untrackedIn1, R.dbIn1],
    }),
    hep2: withReport(E.hep2, { policies: [P.untracked, P.dns, P.audit], rule_matches: [R.apiOut1] }),
    // Remote endpoints: local policies never apply to them, but their rules may match them.
    eastApi: withReport(E.eastApi, {
      profiles: ["east/kns.prod", "east/ksa.prod.api"],
      rule_matches: [R.untrackedIn1, R.blockIn1, R.apiIn2, R.dbIn1],
    }),
    eastFrontend: withReport(E.eastFrontend, {
      profiles: ["east/kns.prod", "east/ksa.prod.default"],
      rule_matches: [R.blockIn1, R.apiIn1],
    }),
    eastHep: withReport(E.eastHep, { rule_matches: [R.blockOut1, R.apiOut1] }),
    westApi: withReport(E.westApi, {
      profiles: ["west/kns.prod", "west/ksa.prod.default"],
      rule_matches: [R.untrackedIn1, R.dbIn1],
    }),
  };

  const endpointCases: [string, string[]][] = [
    ["api-5f9", ["api"]],
    ["api", ["eastApi", "api", "devApi", "westApi"]],
    ["node-1/", ["coredns", "api", "frontend", "hep1"]],
    ["Host endpoint", ["eastHep", "hep1", "hep2"]],
    ["Workload endpoint east/", ["eastApi", "eastFrontend"]],
    ["k8s/prod.", ["eastApi", "eastFrontend", "api", "frontend", "db", "westApi"]],
    ["no-such-endpoint", []],
  ];

  describe.each(FLAGS)("%s", (_, options) => {
    it.each(endpointCases)("endpoint %s", (substring, names) => {
      const expected: EndpointsResult = {
        description: `Policies and profiles for endpoints matching "${substring}"`,
        endpoints: names.map((n) => reports[n]!),
        substring,
      };
      expect(view.endpoint(substring, options)).toEqual(applyFlags(expected, options));
    });

    it.each([
      ["node-1", ["coredns", "api", "frontend", "hep1"]],
      ["node-2", ["devApi", "db", "hep2"]],
      ["east/node-a", ["eastApi", "eastFrontend", "eastHep"]],
      ["west/node-x", ["westApi"]],
      ["node-a", []],
    ])("host %s", (hostname, names) => {
      const expected: EndpointsResult = {
        description: `Policies and profiles for each endpoint on host "${hostname}"`,
        endpoints: names.map((n) => reports[n]!),
        hostname,
      };
      expect(view.host(hostname, options)).toEqual(applyFlags(expected, options));
    });
  });
});

describe("problems and status", () => {
  it("lists the remote clusters that are not InSync, with error and since", () => {
    expect(view.problems()).toEqual([
      {
        cluster: "west",
        status: "ConnectionFailed",
        error: "dial tcp 10.9.0.1:2379: connect: connection refused",
        since: "2025-03-01T11:30:00.000Z",
        stale: true,
        staleSince: "2025-03-01T11:30:00.000Z",
      },
    ]);
  });

  it("reports every cluster with what the view holds", () => {
    expect(view.status()).toEqual([
      {
        cluster: "_local",
        local: true,
        status: "InSync",
        since: "2025-03-01T10:00:00.000Z",
        generation: 1,
        reportedCounts: { WorkloadEndpoint: 5 },
        lastSync: "2025-03-01T10:00:00.000Z",
        workloadEndpoints: 5,
        hostEndpoints: 2,
        profiles: 6,
        policies: 6,
        stale: false,
      },
      {
        cluster: "east",
        local: false,
        status: "InSync",
        since: "2025-03-01T10:00:00.000Z",
        generation: 1,
        reportedCounts: { WorkloadEndpoint: 2 },
        lastSync: "2025-03-01T10:00:00.000Z",
        workloadEndpoints: 2,
        hostEndpoints: 1,
        profiles: 2,
        policies: 0,
        stale: false,
      },
      {
        cluster: "west",
        local: false,
        status: "ConnectionFailed",
        error: "dial tcp 10.9.0.1:2379: connect: connection refused",
        since: "2025-03-01T11:30:00.000Z",
        generation: 1,
        reportedCounts: { WorkloadEndpoint: 1 },
        lastSync: "2025-03-01T10:00:00.000Z",
        staleSince: "2025-03-01T11:30:00.000Z",
        workloadEndpoints: 1,
        hostEndpoints: 0,
        profiles: 1,
        policies: 0,
        stale: true,
      },
    ]);
  });
});
