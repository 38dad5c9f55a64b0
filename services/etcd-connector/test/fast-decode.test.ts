import {
  type CalicoResource,
  decodeEtcdResource,
  encodeEtcdResource,
  parseEtcdKey,
  resourceId,
  resourceRef,
  toFederated,
} from "@fedview/model";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fastDecodeEtcdResource } from "../src/fast-decode.js";
import { convertKeyValue } from "../src/index.js";
import { hep, profile, wep } from "./fixtures.js";

const PREFIX = "/calico/resources/v3/projectcalico.org/";
const KEYS = {
  WorkloadEndpoint: `${PREFIX}workloadendpoints/ns-1/node1-k8s-pod--1-eth0`,
  HostEndpoint: `${PREFIX}hostendpoints/host-eth0`,
  Profile: `${PREFIX}profiles/kns.ns-1`,
} as const;
type Kind = keyof typeof KEYS;

const bytes = (text: string) => Buffer.from(text);
const refOf = (key: string) => parseEtcdKey(key)!;

/** What the connector would give without the fast path: the model's schema, then its federation. */
function reference(cluster: string, key: string, value: Uint8Array, revision: string) {
  const decoded = decodeEtcdResource(key, value, revision);
  if (!decoded.success) return { type: "malformed" };
  let federated: CalicoResource | null;
  try {
    federated = toFederated(cluster, decoded.data);
  } catch {
    return { type: "malformed" };
  }
  if (federated === null) return { type: "hidden" };
  return { type: "resource", id: resourceId(resourceRef(federated)), resource: federated };
}

// ---- arbitraries: resources of the common shapes, with every field sometimes of the wrong type ----

const anyJson = fc.jsonValue({ maxDepth: 2 });
const text = fc.string({ maxLength: 12 });
/** Mostly `valid`, now and then `invalid`: each field must pass for the fast path to be reached. */
const mostly = (valid: fc.Arbitrary<unknown>, ...invalid: fc.Arbitrary<unknown>[]): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 40, arbitrary: valid }, ...invalid.map((arbitrary) => ({ weight: 1, arbitrary })));
const stringMap = mostly(
  fc.dictionary(text, text, { maxKeys: 5 }),
  fc.dictionary(text, anyJson, { minKeys: 1, maxKeys: 3 }),
  fc.constant(JSON.parse('{"__proto__": "x", "a": "b"}')),
  anyJson,
);
const stringArray = mostly(
  fc.array(text, { maxLength: 3 }),
  fc.array(anyJson, { minLength: 1, maxLength: 2 }),
  anyJson,
);
const str = mostly(text, anyJson);
/** A field that is present half the time. */
const maybe = <T>(value: fc.Arbitrary<T>) => fc.option(value, { nil: undefined, freq: 2 });
/** Structures the fast path leaves to the schema: present now and then (and then often invalid). */
const rare = (valid: unknown) =>
  fc.oneof(
    { weight: 10, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.constant(valid) },
    { weight: 1, arbitrary: anyJson },
  );

/** An object from optional fields and some unknown ones, its keys in a random order. */
function object(fields: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  const known = fc.record(Object.fromEntries(Object.entries(fields).map(([k, a]) => [k, maybe(a)])));
  const unknown = fc.dictionary(
    fc.oneof(
      { weight: 40, arbitrary: fc.constantFrom("extra", "status", "x-note", "constructor") },
      { weight: 1, arbitrary: fc.constant("__proto__") },
    ),
    anyJson,
    { maxKeys: 2 },
  );
  return fc.tuple(known, unknown, fc.infiniteStream(fc.double())).map(([k, u, order]) => {
    const entries = [...Object.entries(k).filter(([, v]) => v !== undefined), ...Object.entries(u)];
    const weights = entries.map(() => order.next().value as number);
    const sorted = entries.map((e, i) => [e, weights[i]!] as const).sort((a, b) => a[1] - b[1]);
    const out: Record<string, unknown> = {};
    // defineProperty: an own "__proto__" key, as JSON.parse makes it.
    for (const [[key, value]] of sorted) Object.defineProperty(out, key, { value, enumerable: true, writable: true });
    return out;
  });
}

const metadata = object({
  name: str,
  namespace: str,
  labels: stringMap,
  annotations: stringMap,
  uid: str,
  resourceVersion: str,
  generation: mostly(fc.integer(), anyJson),
  creationTimestamp: mostly(fc.oneof(text, fc.constant(null)), anyJson),
});

const PORTS = [{ name: "http", protocol: "TCP", port: 80 }];
const specs: Record<Kind, fc.Arbitrary<Record<string, unknown>>> = {
  WorkloadEndpoint: object({
    orchestrator: str,
    workload: str,
    node: str,
    containerID: str,
    pod: str,
    endpoint: str,
    serviceAccountName: str,
    ipNetworks: stringArray,
    ipNATs: rare([{ internalIP: "10.0.0.1", externalIP: "1.1.1.1" }]),
    ipv4Gateway: str,
    profiles: stringArray,
    interfaceName: str,
    mac: str,
    ports: rare(PORTS),
    allowSpoofedSourcePrefixes: stringArray,
  }),
  HostEndpoint: object({
    node: str,
    interfaceName: str,
    expectedIPs: stringArray,
    profiles: stringArray,
    ports: rare(PORTS),
  }),
  Profile: object({
    labelsToApply: stringMap,
    ingress: rare([{ action: "Allow" }]),
    egress: rare([{ action: "Allow" }]),
  }),
};

/** A stored key and value: mostly a resource of the key's kind, sometimes not even JSON. */
const stored = fc.constantFrom<Kind>("WorkloadEndpoint", "HostEndpoint", "Profile").chain((kind) =>
  fc
    .tuple(
      mostly(fc.constant("projectcalico.org/v3"), anyJson),
      mostly(fc.constant<unknown>(kind), fc.constantFrom<unknown>("Profile", "HostEndpoint", "Node", undefined)),
      mostly(metadata, anyJson),
      mostly(specs[kind], anyJson),
      fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom("plain", "kind-first", "extra-top") },
        { weight: 1, arbitrary: fc.constantFrom("bom", "invalid-utf8", "truncated") },
      ),
    )
    .map(([apiVersion, k, meta, spec, form]) => {
      const resource: Record<string, unknown> =
        form === "kind-first"
          ? { kind: k, apiVersion, metadata: meta, spec }
          : { apiVersion, kind: k, metadata: meta, spec };
      if (form === "extra-top") resource["status"] = { phase: "Running" };
      const json = JSON.stringify(resource);
      const value =
        form === "bom"
          ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), bytes(json)])
          : form === "invalid-utf8"
            ? Buffer.concat([bytes(json.slice(0, -1)), Buffer.from([0xff]), bytes("}")])
            : form === "truncated"
              ? bytes(json.slice(0, -1))
              : bytes(json);
      return { key: KEYS[kind], value };
    }),
);

describe("fast decoding of stored values", () => {
  it("decodes the common shapes exactly as the schema does, key order included", () => {
    const values: CalicoResource[] = [
      wep("ns-1", "pod-1", { labels: { app: "web" } }),
      wep("ns-1", "pod-2", { ip: null }),
      hep("host-eth0"),
      { ...profile("kns.ns-1"), spec: { labelsToApply: { team: "a" } } } as CalicoResource,
    ];
    for (const resource of values) {
      const { key, value } = encodeEtcdResource(resource);
      const fast = fastDecodeEtcdResource(refOf(key), bytes(value), "42");
      expect(fast, `${resource.kind} takes the fast path`).toBeDefined();
      const slow = decodeEtcdResource(key, value, "42");
      expect(slow.success).toBe(true);
      expect(JSON.stringify(fast)).toBe(JSON.stringify(slow.success && slow.data));
    }
    // As Calico writes it: kind before apiVersion, creationTimestamp null, fields fedview does not know.
    const key = `${PREFIX}workloadendpoints/ns-1/node1-k8s-pod--1-eth0`;
    const calico = `{"kind":"WorkloadEndpoint","apiVersion":"projectcalico.org/v3","metadata":{"name":"node1-k8s-pod--1-eth0","namespace":"ns-1","uid":"u1","creationTimestamp":null,"labels":{"app":"web"}},"spec":{"orchestrator":"k8s","node":"node1","pod":"pod-1","endpoint":"eth0","ipNetworks":["10.0.0.1/32"],"profiles":["kns.ns-1"],"interfaceName":"cali1","qosControls":{"ingressBandwidth":1}}}`;
    const fast = fastDecodeEtcdResource(refOf(key), bytes(calico), "7");
    const slow = decodeEtcdResource(key, calico, "7");
    expect(fast).toBeDefined();
    expect(JSON.stringify(fast)).toBe(JSON.stringify(slow.success && slow.data));
  });

  it("leaves nested structures and unusual values to the schema", () => {
    const key = KEYS.WorkloadEndpoint;
    const base = encodeEtcdResource(wep("ns-1", "pod-1")).value;
    const withPorts = JSON.parse(base);
    withPorts.spec.ports = [{ name: "http", protocol: "TCP", port: 80 }];
    const noSpec = JSON.parse(base);
    delete noSpec.spec;
    const badLabel = JSON.parse(base);
    badLabel.metadata.labels.app = 7;
    for (const value of [
      JSON.stringify(withPorts),
      JSON.stringify(noSpec),
      JSON.stringify(badLabel),
      `\ufeff${base}`,
      base.replace('"WorkloadEndpoint"', '"HostEndpoint"'),
      "not json",
    ]) {
      expect(fastDecodeEtcdResource(refOf(key), bytes(value), "1")).toBeUndefined();
    }
    // Profiles with rules are the schema's too (the rules are checked, then dropped for remotes).
    const { key: pkey, value: pvalue } = encodeEtcdResource(profile("kns.ns-1"));
    expect(fastDecodeEtcdResource(refOf(pkey), bytes(pvalue), "1")).toBeUndefined();
  });

  it("property: decodes ⇒ the schema accepts the value and gives the same resource, byte for byte as JSON", () => {
    let decoded = 0;
    let runs = 0;
    fc.assert(
      fc.property(stored, fc.bigInt({ min: 1n, max: 1n << 40n }), ({ key, value }, revision) => {
        runs++;
        const fast = fastDecodeEtcdResource(refOf(key), value, revision.toString());
        if (fast === undefined) return;
        decoded++;
        const slow = decodeEtcdResource(key, value, revision.toString());
        expect(slow.success).toBe(true);
        expect(JSON.stringify(fast)).toBe(JSON.stringify(slow.success && slow.data));
        expect(fast).toEqual(slow.success && slow.data);
      }),
      { numRuns: 3000 },
    );
    // The generator must reach the fast path often, or the property says little.
    console.info(`fast path took ${decoded} of ${runs} generated values`);
    expect(decoded / runs).toBeGreaterThan(0.1);
  });

  it("property: convertKeyValue gives what the schema path gives, for every value", () => {
    fc.assert(
      fc.property(stored, fc.constantFrom("_local", "east"), ({ key, value }, cluster) => {
        const got = convertKeyValue(cluster, key, value, "9");
        const want = reference(cluster, key, value, "9");
        expect(got.type).toBe(want.type);
        if (got.type === "resource" && want.type === "resource") {
          expect(got.id).toBe(want.id);
          expect(JSON.stringify(got.resource)).toBe(JSON.stringify(want.resource));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
