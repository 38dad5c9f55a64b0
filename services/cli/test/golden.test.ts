/**
 * Golden outputs of every calicoq verb in ps, json and yaml, and for policy, endpoint and host every
 * combination of `-s` and `-r` in each format, on the realistic federation of fixtures.ts (local and
 * remote workload endpoints, host endpoints, namespace and service-account profiles, namespaced and
 * global policies in three tiers, rule selectors with namespaceSelector and serviceAccounts), through
 * the whole command line: the flags are spelled each way calicoq accepts (`-rs`, `-s -r`, long names,
 * `-ojson`, `--output=json`, before or after the positional). Exact bytes.
 */
import { describe, expect, it } from "vitest";
import { runOn } from "./harness.js";

describe("eval", () => {
  it.each<[string[], string]>([
    [
      ["eval", 'app == "api"'],
      `Endpoints matching selector app == "api":
  Workload endpoint east/node-a/k8s/prod.api-e1/eth0
  Workload endpoint node-1/k8s/prod.api-5f9/eth0
  Workload endpoint node-2/k8s/dev.api-6c1/eth0
`,
    ],
    [
      ["eval", 'app == "api"', "-o", "json"],
      `[
  {
    "description": "Endpoints matching selector app == \\"api\\"",
    "endpoints": [
      {
        "node": "east/node-a",
        "orchestrator": "k8s",
        "workload": "prod/api-e1",
        "name": "eth0",
        "remote_cluster": "east"
      },
      {
        "node": "node-1",
        "orchestrator": "k8s",
        "workload": "prod/api-5f9",
        "name": "eth0"
      },
      {
        "node": "node-2",
        "orchestrator": "k8s",
        "workload": "dev/api-6c1",
        "name": "eth0"
      }
    ]
  }
]
`,
    ],
    [
      ["eval", 'app == "api"', "-o", "yaml"],
      `- description: Endpoints matching selector app == "api"
  endpoints:
  - name: eth0
    node: east/node-a
    orchestrator: k8s
    remote_cluster: east
    workload: prod/api-e1
  - name: eth0
    node: node-1
    orchestrator: k8s
    workload: prod/api-5f9
  - name: eth0
    node: node-2
    orchestrator: k8s
    workload: dev/api-6c1
`,
    ],
    [
      ["eval", "has(host-endpoint)"],
      `Endpoints matching selector has(host-endpoint):
  Host endpoint east/node-a/node-a-eth0
  Host endpoint node-1/node-1-eth0
  Host endpoint node-2/node-2-eth0
`,
    ],
  ])("%j", async (argv, expected) => {
    const run = await runOn(argv);
    expect(run.stdout).toBe(expected);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  });
});

describe("policy", () => {
  it.each<[string[], string]>([
    [
      ["policy", "prod/default.allow-api"],
      `Policy "prod/default.allow-api" applies to these endpoints:
  Workload endpoint node-1/k8s/prod.api-5f9/eth0; selector "(app == 'api') && projectcalico.org/namespace == 'prod'"

Endpoints matching Policy "prod/default.allow-api" rules:
  Workload endpoint east/node-a/k8s/prod.api-e1/eth0
    inbound rule 2 source match; selector "(projectcalico.org/namespace == 'prod') && (pcsa.team == "payments" && projectcalico.org/serviceaccount in {"api", "default"})"
  Workload endpoint east/node-a/k8s/prod.frontend-e1/eth0
    inbound rule 1 source match; selector "(projectcalico.org/namespace == 'prod') && (app == 'frontend')"
  Host endpoint east/node-a/node-a-eth0
    outbound rule 1 destination match; selector "!has(projectcalico.org/namespace)"
  Workload endpoint node-1/k8s/prod.api-5f9/eth0
    inbound rule 2 source match; selector "(projectcalico.org/namespace == 'prod') && (pcsa.team == "payments" && projectcalico.org/serviceaccount in {"api", "default"})"
  Workload endpoint node-1/k8s/prod.frontend-7d4/eth0
    inbound rule 1 source match; selector "(projectcalico.org/namespace == 'prod') && (app == 'frontend')"
  Host endpoint node-1/node-1-eth0
    outbound rule 1 destination match; selector "!has(projectcalico.org/namespace)"
  Host endpoint node-2/node-2-eth0
    outbound rule 1 destination match; selector "!has(projectcalico.org/namespace)"
`,
    ],
    [
      ["policy", "prod/default.allow-api", "-ojson"],
      `[
  {
    "description": "Policy \\"prod/default.allow-api\\" applies to these endpoints",
    "policy_applies_to_endpoints": [
      {
        "node": "node-1",
        "orchestrator": "k8s",
        "workload": "prod/api-5f9",
        "name": "eth0",
        "selector": "(app == 'api') \\u0026\\u0026 projectcalico.org/namespace == 'prod'"
      }
    ],
    "endpoints_match_policy": [
      {
        "node": "east/node-a",
        "orchestrator": "k8s",
        "workload": "prod/api-e1",
        "name": "eth0",
        "rule_matches": [
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 2,
            "selector": "(projectcalico.org/namespace == 'prod') \\u0026\\u0026 (pcsa.team == \\"payments\\" \\u0026\\u0026 projectcalico.org/serviceaccount in {\\"api\\", \\"default\\"})"
          }
        ],
        "remote_cluster": "east"
      },
      {
        "node": "east/node-a",
        "orchestrator": "k8s",
        "workload": "prod/frontend-e1",
        "name": "eth0",
        "rule_matches": [
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1,
            "selector": "(projectcalico.org/namespace == 'prod') \\u0026\\u0026 (app == 'frontend')"
          }
        ],
        "remote_cluster": "east"
      },
      {
        "node": "east/node-a",
        "name": "node-a-eth0",
        "rule_matches": [
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "outbound",
            "selector_type": "destination",
            "order": 1,
            "selector": "!has(projectcalico.org/namespace)"
          }
        ],
        "remote_cluster": "east"
      },
      {
        "node": "node-1",
        "orchestrator": "k8s",
        "workload": "prod/api-5f9",
        "name": "eth0",
        "rule_matches": [
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 2,
            "selector": "(projectcalico.org/namespace == 'prod') \\u0026\\u0026 (pcsa.team == \\"payments\\" \\u0026\\u0026 projectcalico.org/serviceaccount in {\\"api\\", \\"default\\"})"
          }
        ]
      },
      {
        "node": "node-1",
        "orchestrator": "k8s",
        "workload": "prod/frontend-7d4",
        "name": "eth0",
        "rule_matches": [
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1,
            "selector": "(projectcalico.org/namespace == 'prod') \\u0026\\u0026 (app == 'frontend')"
          }
        ]
      },
      {
        "node": "node-1",
        "name": "node-1-eth0",
        "rule_matches": [
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "outbound",
            "selector_type": "destination",
            "order": 1,
            "selector": "!has(projectcalico.org/namespace)"
          }
        ]
      },
      {
        "node": "node-2",
        "name": "node-2-eth0",
        "rule_matches": [
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "outbound",
            "selector_type": "destination",
            "order": 1,
            "selector": "!has(projectcalico.org/namespace)"
          }
        ]
      }
    ]
  }
]
`,
    ],
    [
      ["policy", "prod/default.allow-api", "-oyaml"],
      `- description: Policy "prod/default.allow-api" applies to these endpoints
  endpoints_match_policy:
  - name: eth0
    node: east/node-a
    orchestrator: k8s
    remote_cluster: east
    rule_matches:
    - direction: inbound
      order: 2
      policy_name: prod/default.allow-api
      selector: (projectcalico.org/namespace == 'prod') && (pcsa.team == "payments" && projectcalico.org/serviceaccount in {"api", "default"})
      selector_type: source
      tier_name: default
    workload: prod/api-e1
  - name: eth0
    node: east/node-a
    orchestrator: k8s
    remote_cluster: east
    rule_matches:
    - direction: inbound
      order: 1
      policy_name: prod/default.allow-api
      selector: (projectcalico.org/namespace == 'prod') && (app == 'frontend')
      selector_type: source
      tier_name: default
    workload: prod/frontend-e1
  - name: node-a-eth0
    node: east/node-a
    remote_cluster: east
    rule_matches:
    - direction: outbound
      order: 1
      policy_name: prod/default.allow-api
      selector: '!has(projectcalico.org/namespace)'
      selector_type: destination
      tier_name: default
  - name: eth0
    node: node-1
    orchestrator: k8s
    rule_matches:
    - direction: inbound
      order: 2
      policy_name: prod/default.allow-api
      selector: (projectcalico.org/namespace == 'prod') && (pcsa.team == "payments" && projectcalico.org/serviceaccount in {"api", "default"})
      selector_type: source
      tier_name: default
    workload: prod/api-5f9
  - name: eth0
    node: node-1
    orchestrator: k8s
    rule_matches:
    - direction: inbound
      order: 1
      policy_name: prod/default.allow-api
      selector: (projectcalico.org/namespace == 'prod') && (app == 'frontend')
      selector_type: source
      tier_name: default
    workload: prod/frontend-7d4
  - name: node-1-eth0
    node: node-1
    rule_matches:
    - direction: outbound
      order: 1
      policy_name: prod/default.allow-api
      selector: '!has(projectcalico.org/namespace)'
      selector_type: destination
      tier_name: default
  - name: node-2-eth0
    node: node-2
    rule_matches:
    - direction: outbound
      order: 1
      policy_name: prod/default.allow-api
      selector: '!has(projectcalico.org/namespace)'
      selector_type: destination
      tier_name: default
  policy_applies_to_endpoints:
  - name: eth0
    node: node-1
    orchestrator: k8s
    selector: (app == 'api') && projectcalico.org/namespace == 'prod'
    workload: prod/api-5f9
`,
    ],
    [
      ["policy", "prod/default.allow-api", "--hide-selectors", "-o", "ps"],
      `Policy "prod/default.allow-api" applies to these endpoints:
  Workload endpoint node-1/k8s/prod.api-5f9/eth0

Endpoints matching Policy "prod/default.allow-api" rules:
  Workload endpoint east/node-a/k8s/prod.api-e1/eth0
    inbound rule 2 source match
  Workload endpoint east/node-a/k8s/prod.frontend-e1/eth0
    inbound rule 1 source match
  Host endpoint east/node-a/node-a-eth0
    outbound rule 1 destination match
  Workload endpoint node-1/k8s/prod.api-5f9/eth0
    inbound rule 2 source match
  Workload endpoint node-1/k8s/prod.frontend-7d4/eth0
    inbound rule 1 source match
  Host endpoint node-1/node-1-eth0
    outbound rule 1 destination match
  Host endpoint node-2/node-2-eth0
    outbound rule 1 destination match
`,
    ],
    [
      ["policy", "-s", "prod/default.allow-api", "-ojson"],
      `[
  {
    "description": "Policy \\"prod/default.allow-api\\" applies to these endpoints",
    "policy_applies_to_endpoints": [
      {
        "node": "node-1",
        "orchestrator": "k8s",
        "workload": "prod/api-5f9",
        "name": "eth0"
      }
    ],
    "endpoints_match_policy": [
      {
        "node": "east/node-a",
        "orchestrator": "k8s",
        "workload": "prod/api-e1",
        "name": "eth0",
        "rule_matches": [
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 2
          }
        ],
        "remote_cluster": "east"
      },
      {
        "node": "east/node-a",
        "orchestrator": "k8s",
        "workload": "prod/frontend-e1",
        "name": "eth0",
        "rule_matches": [
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1
          }
        ],
        "remote_cluster": "east"
      },
      {
        "node": "east/node-a",
        "name": "node-a-eth0",
        "rule_matches": [
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "outbound",
            "selector_type": "destination",
            "order": 1
          }
        ],
        "remote_cluster": "east"
      },
      {
        "node": "node-1",
        "orchestrator": "k8s",
        "workload": "prod/api-5f9",
        "name": "eth0",
        "rule_matches": [
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 2
          }
        ]
      },
      {
        "node": "node-1",
        "orchestrator": "k8s",
        "workload": "prod/frontend-7d4",
        "name": "eth0",
        "rule_matches": [
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1
          }
        ]
      },
      {
        "node": "node-1",
        "name": "node-1-eth0",
        "rule_matches": [
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "outbound",
            "selector_type": "destination",
            "order": 1
          }
        ]
      },
      {
        "node": "node-2",
        "name": "node-2-eth0",
        "rule_matches": [
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "outbound",
            "selector_type": "destination",
            "order": 1
          }
        ]
      }
    ]
  }
]
`,
    ],
    [
      ["policy", "prod/default.allow-api", "--hide-selectors", "-oyaml"],
      `- description: Policy "prod/default.allow-api" applies to these endpoints
  endpoints_match_policy:
  - name: eth0
    node: east/node-a
    orchestrator: k8s
    remote_cluster: east
    rule_matches:
    - direction: inbound
      order: 2
      policy_name: prod/default.allow-api
      selector_type: source
      tier_name: default
    workload: prod/api-e1
  - name: eth0
    node: east/node-a
    orchestrator: k8s
    remote_cluster: east
    rule_matches:
    - direction: inbound
      order: 1
      policy_name: prod/default.allow-api
      selector_type: source
      tier_name: default
    workload: prod/frontend-e1
  - name: node-a-eth0
    node: east/node-a
    remote_cluster: east
    rule_matches:
    - direction: outbound
      order: 1
      policy_name: prod/default.allow-api
      selector_type: destination
      tier_name: default
  - name: eth0
    node: node-1
    orchestrator: k8s
    rule_matches:
    - direction: inbound
      order: 2
      policy_name: prod/default.allow-api
      selector_type: source
      tier_name: default
    workload: prod/api-5f9
  - name: eth0
    node: node-1
    orchestrator: k8s
    rule_matches:
    - direction: inbound
      order: 1
      policy_name: prod/default.allow-api
      selector_type: source
      tier_name: default
    workload: prod/frontend-7d4
  - name: node-1-eth0
    node: node-1
    rule_matches:
    - direction: outbound
      order: 1
      policy_name: prod/default.allow-api
      selector_type: destination
      tier_name: default
  - name: node-2-eth0
    node: node-2
    rule_matches:
    - direction: outbound
      order: 1
      policy_name: prod/default.allow-api
      selector_type: destination
      tier_name: default
  policy_applies_to_endpoints:
  - name: eth0
    node: node-1
    orchestrator: k8s
    workload: prod/api-5f9
`,
    ],
    [
      ["policy", "-r", "prod/default.allow-api"],
      `Policy "prod/default.allow-api" applies to these endpoints:
  Workload endpoint node-1/k8s/prod.api-5f9/eth0; selector "(app == 'api') && projectcalico.org/namespace == 'prod'"
`,
    ],
    [
      ["policy", "prod/default.allow-api", "--hide-rule-matches", "-ojson"],
      `[
  {
    "description": "Policy \\"prod/default.allow-api\\" applies to these endpoints",
    "policy_applies_to_endpoints": [
      {
        "node": "node-1",
        "orchestrator": "k8s",
        "workload": "prod/api-5f9",
        "name": "eth0",
        "selector": "(app == 'api') \\u0026\\u0026 projectcalico.org/namespace == 'prod'"
      }
    ]
  }
]
`,
    ],
    [
      ["policy", "-r", "prod/default.allow-api", "-oyaml"],
      `- description: Policy "prod/default.allow-api" applies to these endpoints
  policy_applies_to_endpoints:
  - name: eth0
    node: node-1
    orchestrator: k8s
    selector: (app == 'api') && projectcalico.org/namespace == 'prod'
    workload: prod/api-5f9
`,
    ],
    [
      ["policy", "prod/default.allow-api", "-rs", "-o", "ps"],
      `Policy "prod/default.allow-api" applies to these endpoints:
  Workload endpoint node-1/k8s/prod.api-5f9/eth0
`,
    ],
    [
      ["policy", "-s", "-r", "prod/default.allow-api", "-ojson"],
      `[
  {
    "description": "Policy \\"prod/default.allow-api\\" applies to these endpoints",
    "policy_applies_to_endpoints": [
      {
        "node": "node-1",
        "orchestrator": "k8s",
        "workload": "prod/api-5f9",
        "name": "eth0"
      }
    ]
  }
]
`,
    ],
    [
      ["policy", "prod/default.allow-api", "-sr", "-oyaml"],
      `- description: Policy "prod/default.allow-api" applies to these endpoints
  policy_applies_to_endpoints:
  - name: eth0
    node: node-1
    orchestrator: k8s
    workload: prod/api-5f9
`,
    ],
    [
      ["policy", "host-untracked"],
      `Policy "default.host-untracked" applies to these endpoints:
  Host endpoint node-1/node-1-eth0; selector "host-endpoint == "true""
  Host endpoint node-2/node-2-eth0; selector "host-endpoint == "true""

Endpoints matching Policy "default.host-untracked" rules:
  Workload endpoint east/node-a/k8s/prod.api-e1/eth0
    inbound rule 1 source match; selector "app == "api""
  Workload endpoint node-1/k8s/prod.api-5f9/eth0
    inbound rule 1 source match; selector "app == "api""
  Workload endpoint node-2/k8s/dev.api-6c1/eth0
    inbound rule 1 source match; selector "app == "api""
`,
    ],
  ])("%j", async (argv, expected) => {
    const run = await runOn(argv);
    expect(run.stdout).toBe(expected);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  });
});

describe("endpoint", () => {
  it.each<[string[], string]>([
    [
      ["endpoint", "api-5f9"],
      `Policies and profiles for endpoints matching "api-5f9":

Workload endpoint k8s/prod.api-5f9/eth0
  Policies:
    Policy "security.block-external" (order 10; selector "has(app)")
    Policy "prod/default.allow-api" (order 100; selector "(app == 'api') && projectcalico.org/namespace == 'prod'")
    Policy "default.allow-dns" (order 500; selector "")
    Policy "platform.audit" (order 2e+06; selector "all()")
  Profiles:
    Profile "kns.prod"
    Profile "ksa.prod.api"
  Rule matches:
    Policy "default.host-untracked" inbound rule 1 source match; selector "app == "api""
    Policy "security.block-external" inbound rule 1 source match; selector "pcns.env == "production""
    Policy "prod/default.allow-api" inbound rule 2 source match; selector "(projectcalico.org/namespace == 'prod') && (pcsa.team == "payments" && projectcalico.org/serviceaccount in {"api", "default"})"
    Policy "prod/knp.default.db-access" inbound rule 1 source match; selector "(has(projectcalico.org/namespace)) && (app == "api")"
`,
    ],
    [
      ["endpoint", "api-5f9", "-ojson"],
      `[
  {
    "description": "Policies and profiles for endpoints matching \\"api-5f9\\"",
    "endpoints": [
      {
        "node": "node-1",
        "orchestrator": "k8s",
        "workload": "prod/api-5f9",
        "name": "eth0",
        "policies": [
          {
            "name": "security.block-external",
            "order": 10,
            "selector": "has(app)",
            "tier_name": "security",
            "tier_order": 100
          },
          {
            "name": "prod/default.allow-api",
            "order": 100,
            "selector": "(app == 'api') \\u0026\\u0026 projectcalico.org/namespace == 'prod'",
            "tier_name": "default",
            "tier_order": 1000000
          },
          {
            "name": "default.allow-dns",
            "order": 500,
            "tier_name": "default",
            "tier_order": 1000000
          },
          {
            "name": "platform.audit",
            "order": 2000000,
            "selector": "all()",
            "tier_name": "platform"
          }
        ],
        "profiles": [
          {
            "name": "kns.prod"
          },
          {
            "name": "ksa.prod.api"
          }
        ],
        "rule_matches": [
          {
            "policy_name": "default.host-untracked",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1,
            "selector": "app == \\"api\\""
          },
          {
            "policy_name": "security.block-external",
            "tier_name": "security",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1,
            "selector": "pcns.env == \\"production\\""
          },
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 2,
            "selector": "(projectcalico.org/namespace == 'prod') \\u0026\\u0026 (pcsa.team == \\"payments\\" \\u0026\\u0026 projectcalico.org/serviceaccount in {\\"api\\", \\"default\\"})"
          },
          {
            "policy_name": "prod/knp.default.db-access",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1,
            "selector": "(has(projectcalico.org/namespace)) \\u0026\\u0026 (app == \\"api\\")"
          }
        ]
      }
    ]
  }
]
`,
    ],
    [
      ["endpoint", "api-5f9", "-oyaml"],
      `- description: Policies and profiles for endpoints matching "api-5f9"
  endpoints:
  - name: eth0
    node: node-1
    orchestrator: k8s
    policies:
    - name: security.block-external
      order: 10
      selector: has(app)
      tier_name: security
      tier_order: 100
    - name: prod/default.allow-api
      order: 100
      selector: (app == 'api') && projectcalico.org/namespace == 'prod'
      tier_name: default
      tier_order: 1000000
    - name: default.allow-dns
      order: 500
      tier_name: default
      tier_order: 1000000
    - name: platform.audit
      order: 2000000
      selector: all()
      tier_name: platform
    profiles:
    - name: kns.prod
    - name: ksa.prod.api
    rule_matches:
    - direction: inbound
      order: 1
      policy_name: default.host-untracked
      selector: app == "api"
      selector_type: source
      tier_name: default
    - direction: inbound
      order: 1
      policy_name: security.block-external
      selector: pcns.env == "production"
      selector_type: source
      tier_name: security
    - direction: inbound
      order: 2
      policy_name: prod/default.allow-api
      selector: (projectcalico.org/namespace == 'prod') && (pcsa.team == "payments" && projectcalico.org/serviceaccount in {"api", "default"})
      selector_type: source
      tier_name: default
    - direction: inbound
      order: 1
      policy_name: prod/knp.default.db-access
      selector: (has(projectcalico.org/namespace)) && (app == "api")
      selector_type: source
      tier_name: default
    workload: prod/api-5f9
`,
    ],
    [
      ["endpoint", "api-5f9", "--hide-selectors", "-o", "ps"],
      `Policies and profiles for endpoints matching "api-5f9":

Workload endpoint k8s/prod.api-5f9/eth0
  Policies:
    Policy "security.block-external" (order 10)
    Policy "prod/default.allow-api" (order 100)
    Policy "default.allow-dns" (order 500)
    Policy "platform.audit" (order 2e+06)
  Profiles:
    Profile "kns.prod"
    Profile "ksa.prod.api"
  Rule matches:
    Policy "default.host-untracked" inbound rule 1 source match
    Policy "security.block-external" inbound rule 1 source match
    Policy "prod/default.allow-api" inbound rule 2 source match
    Policy "prod/knp.default.db-access" inbound rule 1 source match
`,
    ],
    [
      ["endpoint", "-s", "api-5f9", "-ojson"],
      `[
  {
    "description": "Policies and profiles for endpoints matching \\"api-5f9\\"",
    "endpoints": [
      {
        "node": "node-1",
        "orchestrator": "k8s",
        "workload": "prod/api-5f9",
        "name": "eth0",
        "policies": [
          {
            "name": "security.block-external",
            "order": 10,
            "tier_name": "security",
            "tier_order": 100
          },
          {
            "name": "prod/default.allow-api",
            "order": 100,
            "tier_name": "default",
            "tier_order": 1000000
          },
          {
            "name": "default.allow-dns",
            "order": 500,
            "tier_name": "default",
            "tier_order": 1000000
          },
          {
            "name": "platform.audit",
            "order": 2000000,
            "tier_name": "platform"
          }
        ],
        "profiles": [
          {
            "name": "kns.prod"
          },
          {
            "name": "ksa.prod.api"
          }
        ],
        "rule_matches": [
          {
            "policy_name": "default.host-untracked",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1
          },
          {
            "policy_name": "security.block-external",
            "tier_name": "security",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1
          },
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 2
          },
          {
            "policy_name": "prod/knp.default.db-access",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1
          }
        ]
      }
    ]
  }
]
`,
    ],
    [
      ["endpoint", "api-5f9", "--hide-selectors", "-oyaml"],
      `- description: Policies and profiles for endpoints matching "api-5f9"
  endpoints:
  - name: eth0
    node: node-1
    orchestrator: k8s
    policies:
    - name: security.block-external
      order: 10
      tier_name: security
      tier_order: 100
    - name: prod/default.allow-api
      order: 100
      tier_name: default
      tier_order: 1000000
    - name: default.allow-dns
      order: 500
      tier_name: default
      tier_order: 1000000
    - name: platform.audit
      order: 2000000
      tier_name: platform
    profiles:
    - name: kns.prod
    - name: ksa.prod.api
    rule_matches:
    - direction: inbound
      order: 1
      policy_name: default.host-untracked
      selector_type: source
      tier_name: default
    - direction: inbound
      order: 1
      policy_name: security.block-external
      selector_type: source
      tier_name: security
    - direction: inbound
      order: 2
      policy_name: prod/default.allow-api
      selector_type: source
      tier_name: default
    - direction: inbound
      order: 1
      policy_name: prod/knp.default.db-access
      selector_type: source
      tier_name: default
    workload: prod/api-5f9
`,
    ],
    [
      ["endpoint", "-r", "api-5f9"],
      `Policies and profiles for endpoints matching "api-5f9":

Workload endpoint k8s/prod.api-5f9/eth0
  Policies:
    Policy "security.block-external" (order 10; selector "has(app)")
    Policy "prod/default.allow-api" (order 100; selector "(app == 'api') && projectcalico.org/namespace == 'prod'")
    Policy "default.allow-dns" (order 500; selector "")
    Policy "platform.audit" (order 2e+06; selector "all()")
  Profiles:
    Profile "kns.prod"
    Profile "ksa.prod.api"
`,
    ],
    [
      ["endpoint", "api-5f9", "--hide-rule-matches", "-ojson"],
      `[
  {
    "description": "Policies and profiles for endpoints matching \\"api-5f9\\"",
    "endpoints": [
      {
        "node": "node-1",
        "orchestrator": "k8s",
        "workload": "prod/api-5f9",
        "name": "eth0",
        "policies": [
          {
            "name": "security.block-external",
            "order": 10,
            "selector": "has(app)",
            "tier_name": "security",
            "tier_order": 100
          },
          {
            "name": "prod/default.allow-api",
            "order": 100,
            "selector": "(app == 'api') \\u0026\\u0026 projectcalico.org/namespace == 'prod'",
            "tier_name": "default",
            "tier_order": 1000000
          },
          {
            "name": "default.allow-dns",
            "order": 500,
            "tier_name": "default",
            "tier_order": 1000000
          },
          {
            "name": "platform.audit",
            "order": 2000000,
            "selector": "all()",
            "tier_name": "platform"
          }
        ],
        "profiles": [
          {
            "name": "kns.prod"
          },
          {
            "name": "ksa.prod.api"
          }
        ]
      }
    ]
  }
]
`,
    ],
    [
      ["endpoint", "-r", "api-5f9", "-oyaml"],
      `- description: Policies and profiles for endpoints matching "api-5f9"
  endpoints:
  - name: eth0
    node: node-1
    orchestrator: k8s
    policies:
    - name: security.block-external
      order: 10
      selector: has(app)
      tier_name: security
      tier_order: 100
    - name: prod/default.allow-api
      order: 100
      selector: (app == 'api') && projectcalico.org/namespace == 'prod'
      tier_name: default
      tier_order: 1000000
    - name: default.allow-dns
      order: 500
      tier_name: default
      tier_order: 1000000
    - name: platform.audit
      order: 2000000
      selector: all()
      tier_name: platform
    profiles:
    - name: kns.prod
    - name: ksa.prod.api
    workload: prod/api-5f9
`,
    ],
    [
      ["endpoint", "api-5f9", "-rs", "-o", "ps"],
      `Policies and profiles for endpoints matching "api-5f9":

Workload endpoint k8s/prod.api-5f9/eth0
  Policies:
    Policy "security.block-external" (order 10)
    Policy "prod/default.allow-api" (order 100)
    Policy "default.allow-dns" (order 500)
    Policy "platform.audit" (order 2e+06)
  Profiles:
    Profile "kns.prod"
    Profile "ksa.prod.api"
`,
    ],
    [
      ["endpoint", "-s", "-r", "api-5f9", "-ojson"],
      `[
  {
    "description": "Policies and profiles for endpoints matching \\"api-5f9\\"",
    "endpoints": [
      {
        "node": "node-1",
        "orchestrator": "k8s",
        "workload": "prod/api-5f9",
        "name": "eth0",
        "policies": [
          {
            "name": "security.block-external",
            "order": 10,
            "tier_name": "security",
            "tier_order": 100
          },
          {
            "name": "prod/default.allow-api",
            "order": 100,
            "tier_name": "default",
            "tier_order": 1000000
          },
          {
            "name": "default.allow-dns",
            "order": 500,
            "tier_name": "default",
            "tier_order": 1000000
          },
          {
            "name": "platform.audit",
            "order": 2000000,
            "tier_name": "platform"
          }
        ],
        "profiles": [
          {
            "name": "kns.prod"
          },
          {
            "name": "ksa.prod.api"
          }
        ]
      }
    ]
  }
]
`,
    ],
    [
      ["endpoint", "api-5f9", "-sr", "-oyaml"],
      `- description: Policies and profiles for endpoints matching "api-5f9"
  endpoints:
  - name: eth0
    node: node-1
    orchestrator: k8s
    policies:
    - name: security.block-external
      order: 10
      tier_name: security
      tier_order: 100
    - name: prod/default.allow-api
      order: 100
      tier_name: default
      tier_order: 1000000
    - name: default.allow-dns
      order: 500
      tier_name: default
      tier_order: 1000000
    - name: platform.audit
      order: 2000000
      tier_name: platform
    profiles:
    - name: kns.prod
    - name: ksa.prod.api
    workload: prod/api-5f9
`,
    ],
  ])("%j", async (argv, expected) => {
    const run = await runOn(argv);
    expect(run.stdout).toBe(expected);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  });
});

describe("host", () => {
  it.each<[string[], string]>([
    [
      ["host", "east/node-a"],
      `Policies and profiles for each endpoint on host "east/node-a":

Workload endpoint k8s/prod.api-e1/eth0
  Policies:
  Profiles:
    Profile "east/kns.prod"
    Profile "east/ksa.prod.api"
  Rule matches:
    Policy "default.host-untracked" inbound rule 1 source match; selector "app == "api""
    Policy "security.block-external" inbound rule 1 source match; selector "pcns.env == "production""
    Policy "prod/default.allow-api" inbound rule 2 source match; selector "(projectcalico.org/namespace == 'prod') && (pcsa.team == "payments" && projectcalico.org/serviceaccount in {"api", "default"})"
    Policy "prod/knp.default.db-access" inbound rule 1 source match; selector "(has(projectcalico.org/namespace)) && (app == "api")"

Workload endpoint k8s/prod.frontend-e1/eth0
  Policies:
  Profiles:
    Profile "east/kns.prod"
    Profile "east/ksa.prod.default"
  Rule matches:
    Policy "security.block-external" inbound rule 1 source match; selector "pcns.env == "production""
    Policy "prod/default.allow-api" inbound rule 1 source match; selector "(projectcalico.org/namespace == 'prod') && (app == 'frontend')"

Host endpoint node-a-eth0
  Policies:
  Profiles:
    Profile "east/hep-base"
  Rule matches:
    Policy "security.block-external" outbound rule 1 destination match; selector "role == 'gateway'"
    Policy "prod/default.allow-api" outbound rule 1 destination match; selector "!has(projectcalico.org/namespace)"
    Policy "default.allow-dns" outbound rule 1 !destination match; selector "has(role)"
`,
    ],
    [
      ["host", "east/node-a", "-ojson"],
      `[
  {
    "description": "Policies and profiles for each endpoint on host \\"east/node-a\\"",
    "endpoints": [
      {
        "node": "east/node-a",
        "orchestrator": "k8s",
        "workload": "prod/api-e1",
        "name": "eth0",
        "profiles": [
          {
            "name": "east/kns.prod"
          },
          {
            "name": "east/ksa.prod.api"
          }
        ],
        "rule_matches": [
          {
            "policy_name": "default.host-untracked",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1,
            "selector": "app == \\"api\\""
          },
          {
            "policy_name": "security.block-external",
            "tier_name": "security",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1,
            "selector": "pcns.env == \\"production\\""
          },
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 2,
            "selector": "(projectcalico.org/namespace == 'prod') \\u0026\\u0026 (pcsa.team == \\"payments\\" \\u0026\\u0026 projectcalico.org/serviceaccount in {\\"api\\", \\"default\\"})"
          },
          {
            "policy_name": "prod/knp.default.db-access",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1,
            "selector": "(has(projectcalico.org/namespace)) \\u0026\\u0026 (app == \\"api\\")"
          }
        ],
        "remote_cluster": "east"
      },
      {
        "node": "east/node-a",
        "orchestrator": "k8s",
        "workload": "prod/frontend-e1",
        "name": "eth0",
        "profiles": [
          {
            "name": "east/kns.prod"
          },
          {
            "name": "east/ksa.prod.default"
          }
        ],
        "rule_matches": [
          {
            "policy_name": "security.block-external",
            "tier_name": "security",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1,
            "selector": "pcns.env == \\"production\\""
          },
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1,
            "selector": "(projectcalico.org/namespace == 'prod') \\u0026\\u0026 (app == 'frontend')"
          }
        ],
        "remote_cluster": "east"
      },
      {
        "node": "east/node-a",
        "name": "node-a-eth0",
        "profiles": [
          {
            "name": "east/hep-base"
          }
        ],
        "rule_matches": [
          {
            "policy_name": "security.block-external",
            "tier_name": "security",
            "direction": "outbound",
            "selector_type": "destination",
            "order": 1,
            "selector": "role == 'gateway'"
          },
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "outbound",
            "selector_type": "destination",
            "order": 1,
            "selector": "!has(projectcalico.org/namespace)"
          },
          {
            "policy_name": "default.allow-dns",
            "tier_name": "default",
            "direction": "outbound",
            "selector_type": "!destination",
            "order": 1,
            "selector": "has(role)"
          }
        ],
        "remote_cluster": "east"
      }
    ]
  }
]
`,
    ],
    [
      ["host", "east/node-a", "-oyaml"],
      `- description: Policies and profiles for each endpoint on host "east/node-a"
  endpoints:
  - name: eth0
    node: east/node-a
    orchestrator: k8s
    profiles:
    - name: east/kns.prod
    - name: east/ksa.prod.api
    remote_cluster: east
    rule_matches:
    - direction: inbound
      order: 1
      policy_name: default.host-untracked
      selector: app == "api"
      selector_type: source
      tier_name: default
    - direction: inbound
      order: 1
      policy_name: security.block-external
      selector: pcns.env == "production"
      selector_type: source
      tier_name: security
    - direction: inbound
      order: 2
      policy_name: prod/default.allow-api
      selector: (projectcalico.org/namespace == 'prod') && (pcsa.team == "payments" && projectcalico.org/serviceaccount in {"api", "default"})
      selector_type: source
      tier_name: default
    - direction: inbound
      order: 1
      policy_name: prod/knp.default.db-access
      selector: (has(projectcalico.org/namespace)) && (app == "api")
      selector_type: source
      tier_name: default
    workload: prod/api-e1
  - name: eth0
    node: east/node-a
    orchestrator: k8s
    profiles:
    - name: east/kns.prod
    - name: east/ksa.prod.default
    remote_cluster: east
    rule_matches:
    - direction: inbound
      order: 1
      policy_name: security.block-external
      selector: pcns.env == "production"
      selector_type: source
      tier_name: security
    - direction: inbound
      order: 1
      policy_name: prod/default.allow-api
      selector: (projectcalico.org/namespace == 'prod') && (app == 'frontend')
      selector_type: source
      tier_name: default
    workload: prod/frontend-e1
  - name: node-a-eth0
    node: east/node-a
    profiles:
    - name: east/hep-base
    remote_cluster: east
    rule_matches:
    - direction: outbound
      order: 1
      policy_name: security.block-external
      selector: role == 'gateway'
      selector_type: destination
      tier_name: security
    - direction: outbound
      order: 1
      policy_name: prod/default.allow-api
      selector: '!has(projectcalico.org/namespace)'
      selector_type: destination
      tier_name: default
    - direction: outbound
      order: 1
      policy_name: default.allow-dns
      selector: has(role)
      selector_type: '!destination'
      tier_name: default
`,
    ],
    [
      ["host", "east/node-a", "--hide-selectors", "-o", "ps"],
      `Policies and profiles for each endpoint on host "east/node-a":

Workload endpoint k8s/prod.api-e1/eth0
  Policies:
  Profiles:
    Profile "east/kns.prod"
    Profile "east/ksa.prod.api"
  Rule matches:
    Policy "default.host-untracked" inbound rule 1 source match
    Policy "security.block-external" inbound rule 1 source match
    Policy "prod/default.allow-api" inbound rule 2 source match
    Policy "prod/knp.default.db-access" inbound rule 1 source match

Workload endpoint k8s/prod.frontend-e1/eth0
  Policies:
  Profiles:
    Profile "east/kns.prod"
    Profile "east/ksa.prod.default"
  Rule matches:
    Policy "security.block-external" inbound rule 1 source match
    Policy "prod/default.allow-api" inbound rule 1 source match

Host endpoint node-a-eth0
  Policies:
  Profiles:
    Profile "east/hep-base"
  Rule matches:
    Policy "security.block-external" outbound rule 1 destination match
    Policy "prod/default.allow-api" outbound rule 1 destination match
    Policy "default.allow-dns" outbound rule 1 !destination match
`,
    ],
    [
      ["host", "-s", "east/node-a", "-ojson"],
      `[
  {
    "description": "Policies and profiles for each endpoint on host \\"east/node-a\\"",
    "endpoints": [
      {
        "node": "east/node-a",
        "orchestrator": "k8s",
        "workload": "prod/api-e1",
        "name": "eth0",
        "profiles": [
          {
            "name": "east/kns.prod"
          },
          {
            "name": "east/ksa.prod.api"
          }
        ],
        "rule_matches": [
          {
            "policy_name": "default.host-untracked",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1
          },
          {
            "policy_name": "security.block-external",
            "tier_name": "security",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1
          },
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 2
          },
          {
            "policy_name": "prod/knp.default.db-access",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1
          }
        ],
        "remote_cluster": "east"
      },
      {
        "node": "east/node-a",
        "orchestrator": "k8s",
        "workload": "prod/frontend-e1",
        "name": "eth0",
        "profiles": [
          {
            "name": "east/kns.prod"
          },
          {
            "name": "east/ksa.prod.default"
          }
        ],
        "rule_matches": [
          {
            "policy_name": "security.block-external",
            "tier_name": "security",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1
          },
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "inbound",
            "selector_type": "source",
            "order": 1
          }
        ],
        "remote_cluster": "east"
      },
      {
        "node": "east/node-a",
        "name": "node-a-eth0",
        "profiles": [
          {
            "name": "east/hep-base"
          }
        ],
        "rule_matches": [
          {
            "policy_name": "security.block-external",
            "tier_name": "security",
            "direction": "outbound",
            "selector_type": "destination",
            "order": 1
          },
          {
            "policy_name": "prod/default.allow-api",
            "tier_name": "default",
            "direction": "outbound",
            "selector_type": "destination",
            "order": 1
          },
          {
            "policy_name": "default.allow-dns",
            "tier_name": "default",
            "direction": "outbound",
            "selector_type": "!destination",
            "order": 1
          }
        ],
        "remote_cluster": "east"
      }
    ]
  }
]
`,
    ],
    [
      ["host", "east/node-a", "--hide-selectors", "-oyaml"],
      `- description: Policies and profiles for each endpoint on host "east/node-a"
  endpoints:
  - name: eth0
    node: east/node-a
    orchestrator: k8s
    profiles:
    - name: east/kns.prod
    - name: east/ksa.prod.api
    remote_cluster: east
    rule_matches:
    - direction: inbound
      order: 1
      policy_name: default.host-untracked
      selector_type: source
      tier_name: default
    - direction: inbound
      order: 1
      policy_name: security.block-external
      selector_type: source
      tier_name: security
    - direction: inbound
      order: 2
      policy_name: prod/default.allow-api
      selector_type: source
      tier_name: default
    - direction: inbound
      order: 1
      policy_name: prod/knp.default.db-access
      selector_type: source
      tier_name: default
    workload: prod/api-e1
  - name: eth0
    node: east/node-a
    orchestrator: k8s
    profiles:
    - name: east/kns.prod
    - name: east/ksa.prod.default
    remote_cluster: east
    rule_matches:
    - direction: inbound
      order: 1
      policy_name: security.block-external
      selector_type: source
      tier_name: security
    - direction: inbound
      order: 1
      policy_name: prod/default.allow-api
      selector_type: source
      tier_name: default
    workload: prod/frontend-e1
  - name: node-a-eth0
    node: east/node-a
    profiles:
    - name: east/hep-base
    remote_cluster: east
    rule_matches:
    - direction: outbound
      order: 1
      policy_name: security.block-external
      selector_type: destination
      tier_name: security
    - direction: outbound
      order: 1
      policy_name: prod/default.allow-api
      selector_type: destination
      tier_name: default
    - direction: outbound
      order: 1
      policy_name: default.allow-dns
      selector_type: '!destination'
      tier_name: default
`,
    ],
    [
      ["host", "-r", "east/node-a"],
      `Policies and profiles for each endpoint on host "east/node-a":

Workload endpoint k8s/prod.api-e1/eth0
  Policies:
  Profiles:
    Profile "east/kns.prod"
    Profile "east/ksa.prod.api"

Workload endpoint k8s/prod.frontend-e1/eth0
  Policies:
  Profiles:
    Profile "east/kns.prod"
    Profile "east/ksa.prod.default"

Host endpoint node-a-eth0
  Policies:
  Profiles:
    Profile "east/hep-base"
`,
    ],
    [
      ["host", "east/node-a", "--hide-rule-matches", "-ojson"],
      `[
  {
    "description": "Policies and profiles for each endpoint on host \\"east/node-a\\"",
    "endpoints": [
      {
        "node": "east/node-a",
        "orchestrator": "k8s",
        "workload": "prod/api-e1",
        "name": "eth0",
        "profiles": [
          {
            "name": "east/kns.prod"
          },
          {
            "name": "east/ksa.prod.api"
          }
        ],
        "remote_cluster": "east"
      },
      {
        "node": "east/node-a",
        "orchestrator": "k8s",
        "workload": "prod/frontend-e1",
        "name": "eth0",
        "profiles": [
          {
            "name": "east/kns.prod"
          },
          {
            "name": "east/ksa.prod.default"
          }
        ],
        "remote_cluster": "east"
      },
      {
        "node": "east/node-a",
        "name": "node-a-eth0",
        "profiles": [
          {
            "name": "east/hep-base"
          }
        ],
        "remote_cluster": "east"
      }
    ]
  }
]
`,
    ],
    [
      ["host", "-r", "east/node-a", "-oyaml"],
      `- description: Policies and profiles for each endpoint on host "east/node-a"
  endpoints:
  - name: eth0
    node: east/node-a
    orchestrator: k8s
    profiles:
    - name: east/kns.prod
    - name: east/ksa.prod.api
    remote_cluster: east
    workload: prod/api-e1
  - name: eth0
    node: east/node-a
    orchestrator: k8s
    profiles:
    - name: east/kns.prod
    - name: east/ksa.prod.default
    remote_cluster: east
    workload: prod/frontend-e1
  - name: node-a-eth0
    node: east/node-a
    profiles:
    - name: east/hep-base
    remote_cluster: east
`,
    ],
    [
      ["host", "east/node-a", "-rs", "-o", "ps"],
      `Policies and profiles for each endpoint on host "east/node-a":

Workload endpoint k8s/prod.api-e1/eth0
  Policies:
  Profiles:
    Profile "east/kns.prod"
    Profile "east/ksa.prod.api"

Workload endpoint k8s/prod.frontend-e1/eth0
  Policies:
  Profiles:
    Profile "east/kns.prod"
    Profile "east/ksa.prod.default"

Host endpoint node-a-eth0
  Policies:
  Profiles:
    Profile "east/hep-base"
`,
    ],
    [
      ["host", "-s", "-r", "east/node-a", "-ojson"],
      `[
  {
    "description": "Policies and profiles for each endpoint on host \\"east/node-a\\"",
    "endpoints": [
      {
        "node": "east/node-a",
        "orchestrator": "k8s",
        "workload": "prod/api-e1",
        "name": "eth0",
        "profiles": [
          {
            "name": "east/kns.prod"
          },
          {
            "name": "east/ksa.prod.api"
          }
        ],
        "remote_cluster": "east"
      },
      {
        "node": "east/node-a",
        "orchestrator": "k8s",
        "workload": "prod/frontend-e1",
        "name": "eth0",
        "profiles": [
          {
            "name": "east/kns.prod"
          },
          {
            "name": "east/ksa.prod.default"
          }
        ],
        "remote_cluster": "east"
      },
      {
        "node": "east/node-a",
        "name": "node-a-eth0",
        "profiles": [
          {
            "name": "east/hep-base"
          }
        ],
        "remote_cluster": "east"
      }
    ]
  }
]
`,
    ],
    [
      ["host", "east/node-a", "-sr", "-oyaml"],
      `- description: Policies and profiles for each endpoint on host "east/node-a"
  endpoints:
  - name: eth0
    node: east/node-a
    orchestrator: k8s
    profiles:
    - name: east/kns.prod
    - name: east/ksa.prod.api
    remote_cluster: east
    workload: prod/api-e1
  - name: eth0
    node: east/node-a
    orchestrator: k8s
    profiles:
    - name: east/kns.prod
    - name: east/ksa.prod.default
    remote_cluster: east
    workload: prod/frontend-e1
  - name: node-a-eth0
    node: east/node-a
    profiles:
    - name: east/hep-base
    remote_cluster: east
`,
    ],
    [
      ["host", "node-1", "-r"],
      `Policies and profiles for each endpoint on host "node-1":

Workload endpoint k8s/prod.api-5f9/eth0
  Policies:
    Policy "security.block-external" (order 10; selector "has(app)")
    Policy "prod/default.allow-api" (order 100; selector "(app == 'api') && projectcalico.org/namespace == 'prod'")
    Policy "default.allow-dns" (order 500; selector "")
    Policy "platform.audit" (order 2e+06; selector "all()")
  Profiles:
    Profile "kns.prod"
    Profile "ksa.prod.api"

Workload endpoint k8s/prod.frontend-7d4/eth0
  Policies:
    Policy "security.block-external" (order 10; selector "has(app)")
    Policy "default.allow-dns" (order 500; selector "")
    Policy "platform.audit" (order 2e+06; selector "all()")
  Profiles:
    Profile "kns.prod"
    Profile "ksa.prod.default"

Host endpoint node-1-eth0
  Policies:
    Policy "default.host-untracked" (order 1; selector "host-endpoint == "true"") [untracked]
    Policy "default.allow-dns" (order 500; selector "")
    Policy "platform.audit" (order 2e+06; selector "all()")
  Profiles:
    Profile "hep-base"
`,
    ],
  ])("%j", async (argv, expected) => {
    const run = await runOn(argv);
    expect(run.stdout).toBe(expected);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
  });
});
