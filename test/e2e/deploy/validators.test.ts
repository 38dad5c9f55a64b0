/** The offline checkers the deploy tests rely on reject what the real tools reject. */
import { describe, expect, it } from "vitest";
import { environmentOf, interpolate, parsePort } from "./support/compose.js";
import { argumentWords, expandArgs, parseDockerfile } from "./support/dockerfile.js";
import { modelName, requiredAttributes, validateManifest } from "./support/kube-openapi.js";
import { type JsonSchema, preservingNodes, structuralProblems, validateObject } from "./support/structural-schema.js";

const deployment = () => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "default" },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        containers: [
          {
            name: "web",
            image: "nginx:1.27",
            ports: [{ name: "http", containerPort: 80 }],
            readinessProbe: { httpGet: { path: "/", port: "http" } },
            resources: { requests: { cpu: "10m", memory: "16Mi" } },
          },
        ],
      },
    },
  },
});

describe("validateManifest (Kubernetes OpenAPI models of @kubernetes/client-node)", () => {
  it("accepts a well-formed Deployment", () => {
    expect(validateManifest(deployment())).toEqual([]);
  });

  it("reads required fields from the generated models", () => {
    expect(modelName("apps/v1", "Deployment")).toBe("V1Deployment");
    expect([...requiredAttributes("V1DeploymentSpec")].sort()).toEqual(["selector", "template"]);
    expect(requiredAttributes("V1Container").has("name")).toBe(true);
    expect(requiredAttributes("V1ObjectMeta").size).toBe(0);
  });

  it.each<[string, (d: ReturnType<typeof deployment>) => unknown, string, RegExp]>([
    [
      "an unknown field",
      (d) => ({ ...d, spec: { ...d.spec, replica: 2 } }),
      "spec.replica",
      /unknown field "replica" in V1DeploymentSpec/,
    ],
    [
      "a number as a string",
      (d) => ({ ...d, spec: { ...d.spec, replicas: "2" } }),
      "spec.replicas",
      /expected a number/,
    ],
    [
      "a fractional int32",
      (d) => ({ ...d, spec: { ...d.spec, replicas: 1.5 } }),
      "spec.replicas",
      /expected an integer \(int32\)/,
    ],
    [
      "a missing selector",
      (d) => {
        const { selector: _dropped, ...spec } = d.spec;
        return { ...d, spec };
      },
      "spec.selector",
      /required field "selector" of V1DeploymentSpec is missing/,
    ],
    [
      "a container without a name",
      (d) => {
        const copy = structuredClone(d);
        delete (copy.spec.template.spec.containers[0] as { name?: string }).name;
        return copy;
      },
      "spec.template.spec.containers[0].name",
      /required field "name" of V1Container is missing/,
    ],
    [
      "a probe port that is neither integer nor string",
      (d) => {
        const copy = structuredClone(d);
        (copy.spec.template.spec.containers[0]!.readinessProbe.httpGet as { port: unknown }).port = true;
        return copy;
      },
      "spec.template.spec.containers[0].readinessProbe.httpGet.port",
      /integer or a string/,
    ],
    [
      "a quantity as a number",
      (d) => {
        const copy = structuredClone(d);
        (copy.spec.template.spec.containers[0]!.resources.requests as Record<string, unknown>)["cpu"] = 1;
        return copy;
      },
      "spec.template.spec.containers[0].resources.requests.cpu",
      /expected a string/,
    ],
    ["a missing name", (d) => ({ ...d, metadata: { namespace: "default" } }), "metadata.name", /required/],
    ["an invalid name", (d) => ({ ...d, metadata: { ...d.metadata, name: "Web_1" } }), "metadata.name", /not a valid/],
    ["no namespace", (d) => ({ ...d, metadata: { name: "web" } }), "metadata.namespace", /namespaced/],
    ["the wrong apiVersion", (d) => ({ ...d, apiVersion: "extensions/v1beta1" }), "apiVersion", /apps\/v1/],
  ])("rejects %s", (_label, change, path, message) => {
    const issues = validateManifest(change(deployment()));
    const issue = issues.find((i) => i.path === path);
    expect(issue?.message).toMatch(message);
  });

  it("rejects a namespace on a cluster-scoped kind, and unknown kinds", () => {
    const role = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "r", namespace: "x" },
    };
    expect(validateManifest(role)).toEqual([
      { path: "metadata.namespace", message: "ClusterRole is cluster-scoped and takes no namespace" },
    ]);
    expect(validateManifest({ apiVersion: "v1", kind: "Pod", metadata: { name: "p" } })).toEqual([
      { path: "kind", message: "kind Pod is not one this validator knows" },
    ]);
  });

  it("rejects an RBAC subject without a kind", () => {
    const binding = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: "b" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "r" },
      subjects: [{ name: "sa", namespace: "x" }],
    };
    expect(validateManifest(binding).map((i) => i.path)).toEqual(["subjects[0].kind"]);
  });
});

describe("structuralProblems and validateObject", () => {
  const schema: JsonSchema = {
    type: "object",
    properties: {
      metadata: { type: "object" },
      spec: {
        type: "object",
        required: ["mode"],
        properties: {
          mode: { type: "string", enum: ["a", "b"] },
          count: { type: "integer" },
          tags: { type: "array", items: { type: "string" } },
          labels: { type: "object", additionalProperties: { type: "string" } },
          port: { "x-kubernetes-int-or-string": true },
        },
      },
    },
  };

  it("finds a structural schema structural", () => {
    expect(structuralProblems(schema)).toEqual([]);
  });

  it.each<[string, JsonSchema, string]>([
    ["a node without type", { type: "object", properties: { a: { description: "x" } } }, "has no type"],
    [
      "properties with additionalProperties",
      { type: "object", properties: { a: { type: "string" } }, additionalProperties: { type: "string" } },
      "mutually exclusive",
    ],
    ["an array without items", { type: "object", properties: { a: { type: "array" } } }, "one items schema"],
    ["a $ref", { type: "object", properties: { a: { type: "string", $ref: "#/x" } } }, "forbidden"],
    [
      "metadata with fields",
      { type: "object", properties: { metadata: { type: "object", properties: { name: { type: "string" } } } } },
      "metadata may only",
    ],
    [
      "an enum value of the wrong type",
      { type: "object", properties: { a: { type: "string", enum: [1] } } },
      "expected string",
    ],
    [
      "a default of the wrong type",
      { type: "object", properties: { a: { type: "boolean", default: "no" } } },
      "expected boolean",
    ],
  ])("rejects %s", (_label, bad, message) => {
    expect(
      structuralProblems(bad)
        .map((i) => i.message)
        .join("; "),
    ).toContain(message);
  });

  it("lists nodes that preserve unknown fields", () => {
    const loose: JsonSchema = {
      type: "object",
      properties: { spec: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
    };
    expect(preservingNodes(loose)).toEqual(["openAPIV3Schema.properties.spec"]);
    expect(validateObject(loose, { spec: { anything: 1 } })).toEqual([]);
  });

  it("accepts a matching object and checks types, enums, required and unknown fields", () => {
    const ok = {
      metadata: { name: "x", anything: 1 },
      spec: { mode: "a", count: 2, tags: ["t"], labels: { k: "v" }, port: 80 },
    };
    expect(validateObject(schema, ok)).toEqual([]);
    const bad = { spec: { count: 1.5, tags: [1], labels: { k: 1 }, port: true, extra: 1 } };
    expect(validateObject(schema, bad).map((i) => i.path)).toEqual([
      "spec.mode",
      "spec.count",
      "spec.tags[0]",
      "spec.labels.k",
      "spec.port",
      "spec.extra",
    ]);
    expect(validateObject(schema, { spec: { mode: "c" } })[0]?.message).toContain('"c" is not one of');
  });
});

// biome-ignore-start lint/suspicious/noTemplateCurlyInString: compose and Dockerfile variables, not templates
describe("compose interpolation and ports", () => {
  it.each([
    ["${A:-x}", {}, "x"],
    ["${A:-x}", { A: "" }, "x"],
    ["${A-x}", { A: "" }, ""],
    ["${A:-x}", { A: "y" }, "y"],
    ["${A}", {}, ""],
    ["$${A}", { A: "y" }, "${A}"],
  ])("interpolates %s with %j as %j", (text, vars, expected) => {
    expect(interpolate(text, vars)).toBe(expected);
  });

  it("stops on ${A:?message} when A is unset, as compose does", () => {
    expect(() => interpolate("${A:?set A}", {})).toThrow("compose would stop: A set A");
  });

  it("reads list and map environments and short and long port forms", () => {
    expect(environmentOf(["A=1", "B=${B:-2}"])).toEqual({ A: "1", B: "2" });
    expect(environmentOf({ A: 1, B: "x" })).toEqual({ A: "1", B: "x" });
    expect(parsePort("127.0.0.1:8080:80/tcp")).toEqual({ host: 8080, container: 80 });
    expect(parsePort("80")).toEqual({ container: 80 });
    expect(parsePort({ target: 80, published: 8080 })).toEqual({ host: 8080, container: 80 });
  });
});

describe("parseDockerfile", () => {
  it("reads stages, flags, continuations and global ARGs", () => {
    const file = parseDockerfile(
      [
        "# syntax=docker/dockerfile:1",
        "ARG BASE=node:20",
        "FROM ${BASE} AS build",
        "RUN a \\",
        "    # a comment inside the command",
        "    && b",
        "FROM ${BASE}",
        "COPY --from=build --chown=node /out/ ./",
        'CMD ["node", "x.js"]',
      ].join("\n"),
    );
    expect(file.stages.map((s) => [expandArgs(s.base, file.preamble), s.name])).toEqual([
      ["node:20", "build"],
      ["node:20", undefined],
    ]);
    expect(file.stages[0]!.instructions[0]).toMatchObject({ keyword: "RUN", args: "a && b", line: 4 });
    expect(file.stages[1]!.instructions[0]).toMatchObject({
      flags: { from: "build", chown: "node" },
      args: "/out/ ./",
    });
    expect(argumentWords(file.stages[1]!.instructions[1]!)).toEqual(["node", "x.js"]);
  });
});
// biome-ignore-end lint/suspicious/noTemplateCurlyInString: compose and Dockerfile variables, not templates
