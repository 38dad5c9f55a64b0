import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  configSubject,
  connectionKey,
  connectionKeyFilter,
  decodeSubjectToken,
  encodeSubjectToken,
  leaseKey,
  parseConnectionKey,
  parseLeaseKey,
  parseResourceSubject,
  parseStatusSubject,
  querySubject,
  resourceFilterSubject,
  resourceSubject,
  SubjectError,
  statusFilterSubject,
  statusSubject,
} from "../src/index.js";

// A subject token may not contain these; the encoding must keep every one of them out.
const FORBIDDEN_IN_TOKEN = /[.*>\s]/u;
const TOKEN_ALPHABET = /^[A-Za-z0-9/_=-]+$/;

describe("encodeSubjectToken", () => {
  it.each([
    ["", "="],
    ["web-1", "web-1"],
    ["default/nginx-7c9d", "default/nginx-7c9d"],
    ["kube-system/coredns.abc", "kube-system/coredns=2Eabc"],
    ["a*b>c", "a=2Ab=3Ec"],
    ["with space\ttab", "with=20space=09tab"],
    ["100%=", "100=25=3D"],
    ["é", "=C3=A9"],
    ["😀", "=F0=9F=98=80"],
  ])("encodes %j as %j", (input, token) => {
    expect(encodeSubjectToken(input)).toBe(token);
    expect(decodeSubjectToken(token)).toBe(input);
  });

  it("round-trips arbitrary unicode strings into one token of the safe alphabet", () => {
    const specials = fc.constantFrom(".", "*", ">", " ", "\t", "\n", "%", "/", "=", "", "é", "😀", "\u0000");
    const text = fc.oneof(
      fc.string({ unit: "binary" }),
      fc.string({ unit: "grapheme" }),
      fc.array(fc.oneof(specials, fc.string({ maxLength: 3 })), { maxLength: 12 }).map((parts) => parts.join("")),
    );
    fc.assert(
      fc.property(text, (value) => {
        const token = encodeSubjectToken(value);
        expect(token).toMatch(TOKEN_ALPHABET);
        expect(token).not.toMatch(FORBIDDEN_IN_TOKEN);
        expect(decodeSubjectToken(token)).toBe(value);
      }),
      { numRuns: 2000 },
    );
  });

  it("is injective: different strings never share a token", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (a, b) => {
        fc.pre(a !== b);
        expect(encodeSubjectToken(a)).not.toBe(encodeSubjectToken(b));
      }),
    );
  });

  it("refuses strings with lone surrogates, which have no UTF-8 form", () => {
    expect(() => encodeSubjectToken("a\uD800b")).toThrow(SubjectError);
    expect(() => encodeSubjectToken("\uDC00")).toThrow(SubjectError);
  });
});

describe("decodeSubjectToken", () => {
  it.each([
    ["", "empty token"],
    ["a.b", "a dot"],
    ["a b", "a space"],
    ["=2e", "lower-case hex"],
    ["=41", "an escaped alphabet character (non-canonical)"],
    ["abc=", "a trailing escape"],
    ["=4", "a short escape"],
    ["=C3", "truncated UTF-8"],
    ["=FF", "an invalid UTF-8 byte"],
    ["é", "raw non-ASCII"],
  ])("rejects %j (%s)", (token) => {
    expect(() => decodeSubjectToken(token)).toThrow(SubjectError);
  });
});

describe("subject builders", () => {
  it.each([
    ["prod-eu", "WorkloadEndpoint", "ns1/pod.a", "fedview.v1.res.prod-eu.WorkloadEndpoint.ns1/pod=2Ea"],
    ["_local", "GlobalNetworkPolicy", "default.allow", "fedview.v1.res._local.GlobalNetworkPolicy.default=2Eallow"],
    ["c1", "Profile", "", "fedview.v1.res.c1.Profile.="],
  ])("builds and parses the resource subject of %s/%s/%j", (cluster, kind, id, subject) => {
    expect(resourceSubject(cluster, kind, id)).toBe(subject);
    expect(parseResourceSubject(subject)).toEqual({ cluster, kind, id });
  });

  it.each([
    ["Prod", "upper case"],
    ["a_b", "an underscore"],
    ["-a", "a leading dash"],
    ["a.b", "a dot"],
    ["", "nothing"],
  ])("refuses the cluster name %j (%s)", (cluster) => {
    expect(() => resourceSubject(cluster, "WorkloadEndpoint", "x")).toThrow(SubjectError);
    expect(() => statusSubject(cluster)).toThrow(SubjectError);
  });

  it.each(["workloadEndpoint", "Workload.Endpoint", "", "*"])("refuses the kind %j", (kind) => {
    expect(() => resourceSubject("c1", kind, "x")).toThrow(SubjectError);
  });

  it.each([
    [{}, "fedview.v1.res.>"],
    [{ cluster: "c1" }, "fedview.v1.res.c1.>"],
    [{ kind: "Profile" }, "fedview.v1.res.*.Profile.*"],
    [{ cluster: "c1", kind: "HostEndpoint" }, "fedview.v1.res.c1.HostEndpoint.*"],
  ])("builds the resource filter %j", (filter, subject) => {
    expect(resourceFilterSubject(filter)).toBe(subject);
  });

  it.each([
    "fedview.v1.res.c1.WorkloadEndpoint",
    "fedview.v2.res.c1.WorkloadEndpoint.x",
    "fedview.v1.res.C1.WorkloadEndpoint.x",
    "fedview.v1.res.c1.WorkloadEndpoint.a b",
    "fedview.v1.status.c1",
  ])("does not parse %j as a resource subject", (subject) => {
    expect(parseResourceSubject(subject)).toBeUndefined();
  });

  it("builds and parses status subjects", () => {
    expect(statusSubject("c1")).toBe("fedview.v1.status.c1");
    expect(statusFilterSubject()).toBe("fedview.v1.status.*");
    expect(statusFilterSubject("_local")).toBe("fedview.v1.status._local");
    expect(parseStatusSubject("fedview.v1.status.c1")).toBe("c1");
    expect(parseStatusSubject("fedview.v1.status.c1.x")).toBeUndefined();
  });

  it("builds the RPC subjects", () => {
    expect(querySubject("eval")).toBe("fedview.v1.query.eval");
    expect(querySubject("watch")).toBe("fedview.v1.query.watch");
    expect(configSubject("apply")).toBe("fedview.v1.config.apply");
  });

  it("builds and parses KV keys", () => {
    expect(connectionKey("etcdv3", "c1")).toBe("etcdv3.c1");
    expect(connectionKeyFilter("kubernetes")).toBe("kubernetes.*");
    expect(connectionKeyFilter()).toBe(">");
    expect(parseConnectionKey("kubernetes.c2")).toEqual({ datastoreType: "kubernetes", cluster: "c2" });
    expect(parseConnectionKey("mysql.c2")).toBeUndefined();
    expect(parseLeaseKey(leaseKey("etcd/c.1"))).toBe("etcd/c.1");
    expect(leaseKey("etcd/c.1")).toMatch(/^[-/=\w]+$/);
  });
});
