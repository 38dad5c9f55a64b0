import { resourceKindInfo } from "@fedview/model";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPlainViewResource } from "../src/fast-validate.js";

const KINDS = ["WorkloadEndpoint", "HostEndpoint", "Profile"] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

const wrong = fc.constantFrom<unknown>(undefined, null, 0, 1.5, "", "x", true, [], {}, ["a", 1], { a: 1 });
const field = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ weight: 9, arbitrary: valid }, { weight: 1, arbitrary: wrong });
const str = fc.constantFrom("a", "n-1", "n-2", "");
const strings = fc.array(fc.constantFrom("10.0.0.1/32", "kns.prod"), { maxLength: 2 });
const map = fc.dictionary(fc.constantFrom("app", "env", "x/y"), fc.constantFrom("web", ""), { maxKeys: 3 });

const metadata = fc.record(
  {
    name: field(str),
    namespace: field(str),
    labels: field(map),
    annotations: field(map),
    uid: field(str),
    resourceVersion: field(str),
    generation: field(fc.constantFrom(1, 2)),
    creationTimestamp: field(fc.constantFrom("2024-01-01T00:00:00Z", null)),
    other: wrong,
  },
  { requiredKeys: [] },
);

const spec = fc.record(
  {
    node: field(str),
    orchestrator: field(str),
    pod: field(str),
    endpoint: field(str),
    interfaceName: field(str),
    mac: field(str),
    ipNetworks: field(strings),
    expectedIPs: field(strings),
    profiles: field(strings),
    labelsToApply: field(map),
    ingress: field(fc.constant([{ action: "Allow" }])),
    ports: field(fc.constant([{ name: "http", protocol: "TCP", port: 80 }])),
    ipNATs: field(fc.constant([{ internalIP: "10.0.0.1", externalIP: "1.2.3.4" }])),
    other: wrong,
  },
  { requiredKeys: [] },
);

const resource = fc
  .record(
    {
      apiVersion: field(fc.constant("projectcalico.org/v3")),
      kind: field(fc.constantFrom(...KINDS)),
      metadata: field(metadata),
      spec: field(spec),
      status: wrong,
    },
    { requiredKeys: [] },
  )
  .map((r) => JSON.parse(JSON.stringify(r)) as unknown);

describe("isPlainViewResource", () => {
  it.each(KINDS)("passes a %s only if the model's schema accepts it", (kind) => {
    let passed = 0;
    fc.assert(
      fc.property(resource, (r) => {
        if (isObject(r)) r["kind"] = kind;
        if (!isPlainViewResource(kind, r)) return;
        passed++;
        expect(resourceKindInfo[kind].schema.safeParse(r).success).toBe(true);
      }),
      { numRuns: 20_000 },
    );
    // The property must not hold vacuously.
    expect(passed).toBeGreaterThan(0);
  });

  it.each([
    [
      "WorkloadEndpoint",
      {
        apiVersion: "projectcalico.org/v3",
        kind: "WorkloadEndpoint",
        metadata: { name: "n1-k8s-p-eth0", namespace: "prod", labels: { app: "web" } },
        spec: { node: "c1/n1", ipNetworks: ["10.0.0.1/32"], profiles: ["c1/kns.prod"], orchestrator: "k8s" },
      },
      true,
    ],
    [
      "Profile",
      {
        apiVersion: "projectcalico.org/v3",
        kind: "Profile",
        metadata: { name: "c1/kns.prod" },
        spec: { labelsToApply: { "pcns.env": "prod" } },
      },
      true,
    ],
    ["a WorkloadEndpoint without namespace", { kind: "WorkloadEndpoint", metadata: { name: "x" }, spec: {} }, false],
    [
      "a Profile with rules (left to the schema)",
      { apiVersion: "projectcalico.org/v3", kind: "Profile", metadata: { name: "p" }, spec: { ingress: [] } },
      false,
    ],
  ])("%s → %s", (name, r, expected) => {
    const kind = name.includes("Profile") ? "Profile" : "WorkloadEndpoint";
    expect(isPlainViewResource(kind, r)).toBe(expected);
  });
});
