/** calicoq's json document: field order, extras stripped, empty fields omitted. */
import { describe, expect, it } from "vitest";
import { FederatedView, toCalicoqJson } from "../src/index.js";
import { allEvents, statuses } from "./fixtures.js";

const view = new FederatedView();
for (const e of allEvents()) view.applyResourceEvent(e);
for (const s of statuses()) view.applyClusterStatus(s);

describe("toCalicoqJson", () => {
  it("eval: a one-element list with the endpoints, extras stripped, remote_cluster for remote ones", () => {
    const doc = toCalicoqJson(view.eval("projectcalico.org/serviceaccount == 'api'"));
    expect(JSON.stringify(doc)).toBe(
      JSON.stringify([
        {
          description: "Endpoints matching selector projectcalico.org/serviceaccount == 'api'",
          endpoints: [
            {
              node: "east/node-a",
              orchestrator: "k8s",
              workload: "prod/api-e1",
              name: "eth0",
              remote_cluster: "east",
            },
            { node: "node-1", orchestrator: "k8s", workload: "prod/api-5f9", name: "eth0" },
          ],
        },
      ]),
    );
  });

  it("endpoint: policies, profiles and rule matches in calicoq's field order; empty selector omitted", () => {
    const [doc] = toCalicoqJson(view.endpoint("node-2/k8s/prod.db-0", {}));
    expect(JSON.stringify(doc)).toBe(
      JSON.stringify({
        description: 'Policies and profiles for endpoints matching "node-2/k8s/prod.db-0"',
        endpoints: [
          {
            node: "node-2",
            orchestrator: "k8s",
            workload: "prod/db-0",
            name: "eth0",
            policies: [
              {
                name: "security.block-external",
                order: 10,
                selector: "has(app)",
                tier_name: "security",
                tier_order: 100,
              },
              { name: "default.allow-dns", order: 500, tier_name: "default", tier_order: 1000000 },
              {
                name: "prod/knp.default.db-access",
                selector: "(app == \"db\") && projectcalico.org/namespace == 'prod'",
                tier_name: "default",
                tier_order: 1000000,
              },
              { name: "platform.audit", selector: "all()", tier_name: "platform" },
            ],
            profiles: [{ name: "kns.prod" }, { name: "ksa.prod.default" }],
            rule_matches: [
              {
                policy_name: "security.block-external",
                tier_name: "security",
                direction: "inbound",
                selector_type: "source",
                order: 1,
                selector: 'pcns.env == "production"',
              },
              {
                policy_name: "default.allow-dns",
                tier_name: "default",
                direction: "outbound",
                selector_type: "!destination",
                order: 1,
                selector: 'app == "db"',
              },
            ],
          },
        ],
      }),
    );
  });

  it("policy: both lists; an empty list is omitted (-r)", () => {
    const [doc] = toCalicoqJson(
      view.policy("prod/knp.default.db-access", { hideRuleMatches: true, hideSelectors: true })!,
    );
    expect(doc).toEqual({
      description: 'Policy "prod/knp.default.db-access" applies to these endpoints',
      policy_applies_to_endpoints: [{ node: "node-2", orchestrator: "k8s", workload: "prod/db-0", name: "eth0" }],
    });
  });

  it("host endpoints have a node and a name only", () => {
    const [doc] = toCalicoqJson(view.eval("has(host-endpoint)"));
    expect(doc?.endpoints).toEqual([
      { node: "east/node-a", name: "node-a-eth0", remote_cluster: "east" },
      { node: "node-1", name: "node-1-eth0" },
      { node: "node-2", name: "node-2-eth0" },
    ]);
  });
});
