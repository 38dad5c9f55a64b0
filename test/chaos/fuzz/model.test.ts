/**
 * Fuzzing the edges where outside data enters fedview: RCC and cluster access Secret validation, the
 * etcd value decoder, and both connectors' conversion of malformed remote objects. Each either accepts
 * the input (and what it produces is valid everywhere downstream) or says why, never throws, and
 * never quotes a secret in what it says.
 */
import { encodeResourceEvent } from "@fedview/bus";
import { convertKeyValue, federatedId } from "@fedview/etcd-connector";
import { convertObject, KUBE_RESOURCE_TYPES } from "@fedview/k8s-connector";
import {
  decodeEtcdResource,
  RESOURCE_KINDS,
  type ResourceKind,
  resourceKindInfo,
  validateClusterAccessSecret,
  validateRemoteClusterConfiguration,
} from "@fedview/model";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonValue, malformedDocument, mutatedDocument } from "../lib/arbitraries.js";
import { VALID_ETCD_VALUES, VALID_KUBE_OBJECTS, VALID_RCCS, VALID_SECRET_DATA } from "../lib/documents.js";
import { FIGURES, fuzzTimeout } from "../lib/figures.js";

const runs = { numRuns: FIGURES.fuzzInputs, endOnFailure: true } as const;
const utf8 = new TextEncoder();

interface Issue {
  path: string;
  message: string;
}

function wellFormedIssues(issues: readonly Issue[]): boolean {
  return (
    issues.length > 0 &&
    issues.every((i) => typeof i.path === "string" && typeof i.message === "string" && i.message.length > 0)
  );
}

/** A converted resource is valid for the view's schema and for the bus envelope. */
function acceptedDownstream(cluster: string, kind: ResourceKind, id: string, resource: unknown): boolean {
  if (!resourceKindInfo[kind].schema.safeParse(resource).success) return false;
  try {
    encodeResourceEvent({ v: 1, op: "upsert", cluster, kind, id, revision: "1", generation: 1, resource } as never);
    return true;
  } catch (err) {
    // Only size may stop a valid resource at the bus; the fuzzer's values are far below it.
    throw new Error(`a converted ${kind} ${id} was refused by the bus: ${(err as Error).message}`, { cause: err });
  }
}

describe("RCC validation fuzz", { timeout: fuzzTimeout() }, () => {
  it.each(VALID_RCCS.map((rcc, i) => [i, rcc] as const))("accepts valid RCC %i", (_i, rcc) => {
    expect(validateRemoteClusterConfiguration(rcc).success).toBe(true);
  });

  it(`accepts or explains ${FIGURES.fuzzInputs} malformed RCCs, never throwing`, () => {
    fc.assert(
      fc.property(malformedDocument(VALID_RCCS), (input) => {
        const result = validateRemoteClusterConfiguration(input);
        if (result.success) return validateRemoteClusterConfiguration(result.data).success;
        return wellFormedIssues(result.issues);
      }),
      runs,
    );
  });

  it(`accepts or explains ${FIGURES.fuzzInputs} malformed cluster access Secrets, never throwing`, () => {
    fc.assert(
      fc.property(malformedDocument(VALID_SECRET_DATA), (input) => {
        const result = validateClusterAccessSecret(input);
        return result.success || wellFormedIssues(result.issues);
      }),
      runs,
    );
  });

  // A secret of nine or more digits: as text, or as the number YAML makes of an unquoted one.
  const secret = fc.integer({ min: 100_000_000, max: 2_000_000_000 });
  const placement = fc.constantFrom("string", "number", "endpoint-userinfo", "api-userinfo", "wrong-datastore");

  function rccWithSecret(base: Record<string, unknown>, value: number, how: string): Record<string, unknown> {
    const spec = { ...(base["spec"] as Record<string, unknown>) };
    switch (how) {
      case "string":
        spec["etcdPassword"] = String(value);
        spec["k8sAPIToken"] = String(value);
        break;
      case "number":
        spec["etcdPassword"] = value;
        spec["k8sAPIToken"] = value;
        break;
      case "endpoint-userinfo":
        spec["etcdEndpoints"] = `https://reader:${value}@10.0.0.1:2379,https://10.0.0.2:2379`;
        break;
      case "api-userinfo":
        spec["k8sAPIEndpoint"] = `https://admin:${value}@10.1.0.1:6443/`;
        break;
      case "wrong-datastore":
        spec["datastoreType"] = spec["datastoreType"] === "kubernetes" ? "etcdv3" : "kubernetes";
        spec["etcdPassword"] = String(value);
        spec["k8sAPIToken"] = String(value);
        break;
    }
    return { ...base, spec };
  }

  it("never quotes a password or token in an RCC's validation issues", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID_RCCS),
        secret,
        placement,
        fc.option(fc.constantFrom("etcdv3", "kubernetes", 7, null)),
        (base, value, how, datastoreType) => {
          const rcc = rccWithSecret(base as Record<string, unknown>, value, how);
          if (datastoreType !== null) (rcc["spec"] as Record<string, unknown>)["datastoreType"] = datastoreType;
          const result = validateRemoteClusterConfiguration(rcc);
          return result.success || !JSON.stringify(result.issues).includes(String(value));
        },
      ),
      runs,
    );
  });

  it("never quotes a Secret's password, key or kubeconfig in its validation issues", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID_SECRET_DATA),
        secret,
        fc.constantFrom("etcdPassword", "etcdKey", "kubeconfig", "etcdUsername"),
        fc.boolean(),
        (base, value, field, asNumber) => {
          const data = { ...(base as Record<string, unknown>), [field]: asNumber ? value : [String(value)] };
          const result = validateClusterAccessSecret(data);
          return result.success || !JSON.stringify(result.issues).includes(String(value));
        },
      ),
      runs,
    );
  });
});

describe("remote object conversion fuzz", { timeout: fuzzTimeout() }, () => {
  const keys = VALID_ETCD_VALUES.map((v) => v.key);
  const values = VALID_ETCD_VALUES.map((v) => v.value);
  const anyKey = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...keys) },
    { weight: 1, arbitrary: fc.constantFrom(...keys).map((k) => `${k}/extra`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 80 }).map((s) => `/calico/resources/v3/projectcalico.org/${s}`) },
  );
  const storedBytes = fc.oneof(
    { weight: 6, arbitrary: malformedDocument(values).map((d) => utf8.encode(JSON.stringify(d) ?? "null")) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  );
  const cluster = fc.constantFrom("east", "_local");

  it(`decodes or explains ${FIGURES.fuzzInputs} malformed etcd values, never throwing`, () => {
    fc.assert(
      fc.property(anyKey, storedBytes, fc.nat(), (key, bytes, rev) => {
        const result = decodeEtcdResource(key, bytes, rev);
        return result.success ? result.data.metadata.resourceVersion === String(rev) : wellFormedIssues(result.issues);
      }),
      runs,
    );
  });

  it(`etcd connector: converts or skips ${FIGURES.fuzzInputs} malformed values; what it keeps is valid downstream`, () => {
    fc.assert(
      fc.property(cluster, anyKey, storedBytes, fc.nat(), (c, key, bytes, rev) => {
        const converted = convertKeyValue(c, key, bytes, String(rev));
        switch (converted.type) {
          case "resource":
            return acceptedDownstream(c, converted.kind, converted.id, converted.resource);
          case "hidden":
            return RESOURCE_KINDS.includes(converted.kind);
          case "malformed":
            return converted.reason.length > 0;
        }
      }),
      runs,
    );
  });

  it("etcd connector: the id of a value it cannot read is the id a good value would have", () => {
    fc.assert(
      fc.property(cluster, fc.constantFrom(...VALID_ETCD_VALUES), jsonValue, (c, { key, value }, junk) => {
        const good = convertKeyValue(c, key, utf8.encode(JSON.stringify(value)), "5");
        const bad = convertKeyValue(c, key, utf8.encode(JSON.stringify({ spec: junk, kind: 5 })), "6");
        if (good.type !== "resource" || bad.type !== "malformed") return true;
        return bad.id === good.id && bad.id === federatedId(c, { ...parseRef(key) });
      }),
      { ...runs, numRuns: Math.min(FIGURES.fuzzInputs, 2000) },
    );
  });

  const kubeTypes = new Map(KUBE_RESOURCE_TYPES.map((t) => [t.plural, t]));
  const kubeInput = fc
    .constantFrom(...VALID_KUBE_OBJECTS)
    .chain(({ plural, object }) =>
      fc
        .oneof({ weight: 5, arbitrary: mutatedDocument([object]) }, { weight: 1, arbitrary: jsonValue })
        .map((input) => ({ type: kubeTypes.get(plural)!, input })),
    );

  it(`k8s connector: converts or skips ${FIGURES.fuzzInputs} malformed objects; what it keeps is valid downstream`, () => {
    fc.assert(
      fc.property(cluster, kubeInput, (c, { type, input }) => {
        const converted = convertObject(c, type, input);
        switch (converted.type) {
          case "resource":
            return acceptedDownstream(c, converted.kind, converted.id, converted.resource);
          case "hidden":
          case "none":
            return true;
          case "malformed":
            return converted.reason.length > 0;
        }
      }),
      runs,
    );
  });
});

function parseRef(key: string): { kind: ResourceKind; name: string; namespace?: string } {
  const parts = key.split("/");
  const plural = parts[5]!;
  const kind = RESOURCE_KINDS.find((k) => resourceKindInfo[k].plural === plural)!;
  return parts.length === 8 ? { kind, namespace: parts[6]!, name: parts[7]! } : { kind, name: parts[6]! };
}
