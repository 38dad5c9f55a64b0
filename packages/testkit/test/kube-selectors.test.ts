import { describe, expect, it } from "vitest";
import { KubeStatusError } from "../src/index.js";
import { applyJsonPatch, applyMergePatch } from "../src/kube/patch.js";
import { ResourceRegistry } from "../src/kube/registry.js";
import { compileSelectors } from "../src/kube/selectors.js";
import type { KubeObject } from "../src/kube/types.js";

const registry = new ResourceRegistry();
const pods = registry.register({
  group: "",
  version: "v1",
  plural: "pods",
  kind: "Pod",
  namespaced: true,
  selectableFields: ["spec.nodeName", "spec.hostNetwork"],
  builtin: true,
});
const heps = registry.register({
  group: "crd.projectcalico.org",
  version: "v1",
  plural: "hostendpoints",
  kind: "HostEndpoint",
  namespaced: false,
});

const web: KubeObject = {
  metadata: { name: "web-1", namespace: "prod", labels: { app: "web", tier: "3", "example.com/team": "a" } },
  spec: { nodeName: "n1" },
};

describe("label and field selectors", () => {
  it.each([
    ["", true],
    ["app=web", true],
    ["app==web", true],
    ["app!=web", false],
    ["app!=db", true],
    ["missing!=x", true],
    ["app", true],
    ["!app", false],
    ["!missing", true],
    ["app in (db, web)", true],
    ["app notin (web)", false],
    ["missing notin (web)", true],
    ["tier>2", true],
    ["tier<3", false],
    ["example.com/team=a,app=web", true],
    ["app=web,tier=4", false],
  ])("label selector %j matches: %s", (selector, expected) => {
    expect(compileSelectors(pods, selector, undefined).predicate(web)).toBe(expected);
  });

  it.each([
    ["metadata.name=web-1", true],
    ["metadata.name!=web-1", false],
    ["metadata.namespace==prod", true],
    ["spec.nodeName=n1,metadata.namespace=prod", true],
    ["spec.nodeName=n2", false],
    ["spec.hostNetwork=false", true],
  ])("field selector %j matches: %s", (selector, expected) => {
    expect(compileSelectors(pods, undefined, selector).predicate(web)).toBe(expected);
  });

  it.each([
    [pods, undefined, "spec.bogus=x", "field label not supported: spec.bogus"],
    [
      heps,
      undefined,
      "spec.node=x",
      '"spec.node" is not a known field selector: only "metadata.name", "metadata.namespace"',
    ],
    [pods, "app in (web", undefined, "unable to parse requirement"],
    [pods, "a=b=c", undefined, "unable to parse requirement"],
    [pods, "Bad Key!=x", undefined, "unable to parse requirement"],
    [pods, undefined, "nooperator", "invalid selector"],
  ])("refuses a bad selector with a 400 (%#)", (def, labels, fields, text) => {
    let caught: unknown;
    try {
      compileSelectors(def, labels, fields);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(KubeStatusError);
    expect((caught as KubeStatusError).status).toMatchObject({ code: 400, reason: "BadRequest" });
    expect((caught as KubeStatusError).message).toContain(text);
  });
});

describe("patches", () => {
  it.each([
    [{ a: 1, b: { c: 2 } }, { b: { d: 3 } }, { a: 1, b: { c: 2, d: 3 } }],
    [{ a: 1, b: 2 }, { a: null }, { b: 2 }],
    [{ list: [1, 2] }, { list: [3] }, { list: [3] }],
    [{ a: 1 }, "x", "x"],
  ])("merge patch %j + %j = %j", (target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });

  it.each([
    [{ a: [1, 3] }, [{ op: "add", path: "/a/1", value: 2 }], { a: [1, 2, 3] }],
    [{ a: [1] }, [{ op: "add", path: "/a/-", value: 2 }], { a: [1, 2] }],
    [{ a: 1, b: 2 }, [{ op: "remove", path: "/a" }], { b: 2 }],
    [{ a: 1 }, [{ op: "replace", path: "/a", value: 5 }], { a: 5 }],
    [{ a: { "x/y": 1 } }, [{ op: "move", from: "/a/x~1y", path: "/b" }], { a: {}, b: 1 }],
    [{ a: 1 }, [{ op: "copy", from: "/a", path: "/b" }], { a: 1, b: 1 }],
    [
      { a: 1 },
      [
        { op: "test", path: "/a", value: 1 },
        { op: "add", path: "/t", value: true },
      ],
      { a: 1, t: true },
    ],
  ])("JSON patch on %j with %j gives %j", (target, patch, expected) => {
    expect(applyJsonPatch(target, patch)).toEqual(expected);
  });

  it.each([
    [{ a: 1 }, [{ op: "test", path: "/a", value: 2 }]],
    [{ a: 1 }, [{ op: "replace", path: "/b", value: 2 }]],
    [{ a: 1 }, [{ op: "remove", path: "/x/y" }]],
    [{ a: 1 }, { op: "add" }],
  ])("a JSON patch that cannot apply is a 422 (%#)", (target, patch) => {
    expect(() => applyJsonPatch(target, patch)).toThrow(KubeStatusError);
  });
});
