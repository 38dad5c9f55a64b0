import { describe, expect, it } from "vitest";
import {
  BusMetrics,
  type ClusterStatusMessage,
  compareRevisions,
  compareVersions,
  DecodeError,
  decodeClusterStatus,
  decodeConnectionConfig,
  decodeResourceEvent,
  EncodeError,
  encodeClusterStatus,
  encodeConnectionConfig,
  encodeResourceEvent,
  isNewer,
  type ResourceEvent,
  resourceSubject,
  statusSubject,
} from "../src/index.js";
import { etcdConfig, inSync, wepDelete, wepUpsert } from "./fixtures.js";

const utf8 = new TextEncoder();
const json = (value: unknown) => utf8.encode(JSON.stringify(value));

describe("resource event codec", () => {
  it.each<[string, ResourceEvent]>([
    ["an upsert", wepUpsert("c1", "ns/web-1", "42", 3)],
    ["a delete", wepDelete("c1", "ns/web-1", "43", 3)],
    [
      "a global-kind upsert on the local cluster",
      {
        v: 1,
        op: "upsert",
        cluster: "_local",
        kind: "Profile",
        id: "kns.default",
        revision: "7",
        generation: 0,
        resource: {
          apiVersion: "projectcalico.org/v3",
          kind: "Profile",
          metadata: { name: "kns.default" },
          spec: { labelsToApply: { "projectcalico.org/name": "default" } },
        },
      },
    ],
  ])("round-trips %s", (_, event) => {
    const subject = resourceSubject(event.cluster, event.kind, event.id);
    expect(decodeResourceEvent(encodeResourceEvent(event), subject)).toEqual(event);
  });

  it.each<[string, unknown]>([
    ["a wrong envelope version", { ...wepUpsert("c1", "ns/a"), v: 2 }],
    ["an unknown op", { ...wepUpsert("c1", "ns/a"), op: "patch" }],
    ["an upsert without resource", { ...wepUpsert("c1", "ns/a"), resource: undefined }],
    ["a resource without metadata.name", { ...wepUpsert("c1", "ns/a"), resource: { apiVersion: "v", kind: "X" } }],
    [
      "a resource of another kind",
      { ...wepUpsert("c1", "ns/a"), resource: { ...wepUpsert("c1", "ns/a").resource, kind: "Profile" } },
    ],
    ["a fractional generation", { ...wepUpsert("c1", "ns/a"), generation: 1.5 }],
    ["an empty revision", { ...wepUpsert("c1", "ns/a"), revision: "" }],
    ["an invalid cluster", { ...wepUpsert("c1", "ns/a"), cluster: "Bad_Cluster" }],
  ])("rejects %s with a DecodeError carrying issues", (_, value) => {
    let caught: unknown;
    try {
      decodeResourceEvent(json(value));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DecodeError);
    expect((caught as DecodeError).kind).toBe("resource");
    expect((caught as DecodeError).issues.length).toBeGreaterThan(0);
  });

  it("rejects bytes that are not JSON", () => {
    expect(() => decodeResourceEvent(utf8.encode("{nope"))).toThrow(DecodeError);
    expect(() => decodeResourceEvent(new Uint8Array([0xff, 0xfe]))).toThrow(DecodeError);
  });

  it("rejects an event whose envelope disagrees with its subject", () => {
    const event = wepUpsert("c1", "ns/a");
    expect(() => decodeResourceEvent(encodeResourceEvent(event), resourceSubject("c2", event.kind, event.id))).toThrow(
      /arrived on/,
    );
    expect(() => decodeResourceEvent(encodeResourceEvent(event), resourceSubject("c1", event.kind, "ns/b"))).toThrow(
      DecodeError,
    );
  });

  it("refuses to encode an invalid event", () => {
    const bad = { ...wepUpsert("c1", "ns/a"), generation: -1 };
    expect(() => encodeResourceEvent(bad)).toThrow(EncodeError);
  });

  it("refuses to encode an event over the payload limit", () => {
    const event = wepUpsert("c1", "ns/a");
    const huge = { ...event, resource: { ...event.resource, spec: { blob: "x".repeat(1024 * 1024) } } };
    expect(() => encodeResourceEvent(huge)).toThrow(/over the 1048576-byte limit/);
  });

  it("drops unknown envelope fields, so a newer writer's additions do not break an older reader", () => {
    const decoded = decodeResourceEvent(json({ ...wepDelete("c1", "ns/a"), addedLater: true }));
    expect(decoded).toEqual(wepDelete("c1", "ns/a"));
  });
});

describe("cluster status codec", () => {
  it.each<[string, ClusterStatusMessage]>([
    ["an InSync status", inSync("c1")],
    [
      "a failed, stale status with expiry",
      {
        ...inSync("c1", 2),
        status: "ConnectionFailed",
        error: "dial tcp: refused",
        stale: true,
        staleSince: "2024-05-01T10:01:00Z",
        expiresAt: "2024-05-01T11:01:00+01:00",
      },
    ],
    ["a removal", { v: 1, op: "delete", cluster: "c1", generation: 4, since: "2024-05-02T00:00:00.000Z" }],
  ])("round-trips %s", (_, message) => {
    expect(decodeClusterStatus(encodeClusterStatus(message), statusSubject("c1"))).toEqual(message);
  });

  it.each<[string, unknown]>([
    ["an unknown status value", { ...inSync("c1"), status: "Happy" }],
    ["a non-ISO time", { ...inSync("c1"), since: "yesterday" }],
    ["a negative count", { ...inSync("c1"), counts: { WorkloadEndpoint: -1 } }],
  ])("rejects %s", (_, value) => {
    expect(() => decodeClusterStatus(json(value))).toThrow(DecodeError);
  });

  it("rejects a status published on another cluster's subject", () => {
    expect(() => decodeClusterStatus(encodeClusterStatus(inSync("c1")), statusSubject("c2"))).toThrow(DecodeError);
  });
});

describe("connection config codec", () => {
  it("round-trips a config with sealed secrets and extra spec fields", () => {
    const config = {
      ...etcdConfig("c1"),
      spec: { ...etcdConfig("c1").spec, futureField: { a: [1, "x"] } },
      sealed: { sender: `X${"A".repeat(55)}`, data: "aGVsbG8=" },
    };
    expect(decodeConnectionConfig(encodeConnectionConfig(config), "etcdv3.c1")).toEqual(config);
  });

  it.each(["etcdPassword", "etcdKey", "k8sAPIToken", "kubeconfig"])("refuses %s in the clear spec", (field) => {
    const config = { ...etcdConfig("c1"), spec: { ...etcdConfig("c1").spec, [field]: "s3cret" } };
    expect(() => encodeConnectionConfig(config)).toThrow(/belongs in 'sealed'/);
  });

  it("requires an error text on an invalid config", () => {
    expect(() => encodeConnectionConfig({ ...etcdConfig("c1"), status: "invalid" })).toThrow(EncodeError);
    const invalid = { ...etcdConfig("c1"), status: "invalid" as const, error: "secret missing" };
    expect(decodeConnectionConfig(encodeConnectionConfig(invalid))).toEqual(invalid);
  });

  it("rejects a config stored under another cluster's key", () => {
    expect(() => decodeConnectionConfig(encodeConnectionConfig(etcdConfig("c1")), "etcdv3.c2")).toThrow(DecodeError);
    expect(() => decodeConnectionConfig(encodeConnectionConfig(etcdConfig("c1")), "kubernetes.c1")).toThrow(
      DecodeError,
    );
  });
});

describe("revision ordering", () => {
  it.each([
    ["9", "10", -1],
    ["10", "9", 1],
    ["18446744073709551617", "18446744073709551616", 1],
    ["007", "7", 0],
    ["abc", "abd", -1],
    ["b", "a", 1],
  ])("compares %s with %s as %i", (a, b, expected) => {
    expect(Math.sign(compareRevisions(a, b))).toBe(expected);
  });

  it("orders by generation before revision", () => {
    expect(compareVersions({ generation: 2, revision: "1" }, { generation: 1, revision: "999" })).toBeGreaterThan(0);
    expect(isNewer({ generation: 1, revision: "5" }, { generation: 1, revision: "5" })).toBe(false);
    expect(isNewer({ generation: 1, revision: "6" }, { generation: 1, revision: "5" })).toBe(true);
    expect(isNewer({ generation: 1, revision: "1" }, undefined)).toBe(true);
  });
});

describe("BusMetrics", () => {
  it("counts decode failures per message kind and tells listeners, ignoring a throwing listener", () => {
    const metrics = new BusMetrics();
    const seen: string[] = [];
    metrics.onDecodeFailure(() => {
      throw new Error("listener bug");
    });
    const off = metrics.onDecodeFailure((e) => seen.push(e.kind));
    metrics.recordDecodeFailure(new DecodeError("x", { kind: "resource" }));
    metrics.recordDecodeFailure(new DecodeError("y", { kind: "resource" }));
    off();
    metrics.recordDecodeFailure(new DecodeError("z", { kind: "status" }));
    expect(metrics.decodeFailures()).toMatchObject({ resource: 2, status: 1, connection: 0 });
    expect(metrics.totalDecodeFailures()).toBe(3);
    expect(seen).toEqual(["resource", "resource"]);
    expect(metrics.lastDecodeFailure()?.message).toBe("z");
  });
});
