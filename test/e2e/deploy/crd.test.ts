/**
 * The RemoteClusterConfiguration CRD against @fedview/model: the same fields, a structural schema, and
 * acceptance of the RCCs the model accepts, in the form config-service stores them.
 */
import {
  RemoteClusterConfigurationSpecSchema,
  RemoteClusterSyncOptionsSchema,
  toCrdResource,
  validateRemoteClusterConfiguration,
} from "@fedview/model";
import { V1ObjectReference } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { validateManifest } from "./support/kube-openapi.js";
import { isRecord, readYamlDocuments } from "./support/repo.js";
import { type JsonSchema, preservingNodes, structuralProblems, validateObject } from "./support/structural-schema.js";

const CRD_FILE = "deploy/k8s/crd/remoteclusterconfigurations.yaml";

interface CrdManifest {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular: string; listKind: string };
    versions: { name: string; served: boolean; storage: boolean; schema: { openAPIV3Schema: JsonSchema } }[];
  };
}

function loadCrd(): CrdManifest {
  const documents = readYamlDocuments(CRD_FILE);
  expect(documents).toHaveLength(1);
  return documents[0] as CrdManifest;
}

const crd = loadCrd();
const version = crd.spec.versions[0]!;
const schema = version.schema.openAPIV3Schema;
const specSchema = schema.properties!["spec"]!;

function rcc(spec: Record<string, unknown>, name = "cluster-b") {
  return { apiVersion: "projectcalico.org/v3", kind: "RemoteClusterConfiguration", metadata: { name }, spec };
}

const etcdSpec = {
  datastoreType: "etcdv3",
  etcdEndpoints: "https://10.0.0.1:2379,https://10.0.0.2:2379",
  etcdKeyFile: "/etc/fedview/remote/etcd-key.pem",
  etcdCertFile: "/etc/fedview/remote/etcd-cert.pem",
  etcdCACertFile: "/etc/fedview/remote/etcd-ca.pem",
};
const kubernetesSpec = { datastoreType: "kubernetes", kubeconfig: "/etc/fedview/remote/kubeconfig" };
const secretRef = { kind: "Secret", name: "remote-cluster-b", namespace: "calico-system" };

/** Valid RCCs, taken from @fedview/model's own tests of validateRemoteClusterConfiguration. */
const VALID_SPECS: [string, Record<string, unknown>][] = [
  ["etcd with mutual TLS", etcdSpec],
  [
    "etcd over plain http with a user",
    { datastoreType: "etcdv3", etcdEndpoints: "http://etcd.remote:2379", etcdUsername: "calico", etcdPassword: "s3" },
  ],
  ["a kubeconfig", kubernetesSpec],
  [
    "an API endpoint, token and CA",
    {
      datastoreType: "kubernetes",
      k8sAPIEndpoint: "https://10.0.0.1:6443",
      k8sAPIToken: "eyJhbGciOi",
      k8sCAFile: "/ca",
    },
  ],
  [
    "a kubeconfig with overrides",
    { ...kubernetesSpec, k8sAPIEndpoint: "https://10.0.0.1:6443", k8sCertFile: "/c.crt", k8sKeyFile: "/c.key" },
  ],
  ["an API endpoint without TLS verification", { ...kubernetesSpec, k8sInsecureSkipTLSVerify: true }],
  ["a cluster access Secret", { clusterAccessSecret: secretRef }],
  ["a Secret with syncOptions", { clusterAccessSecret: secretRef, syncOptions: { overlayRoutingMode: "Enabled" } }],
  [
    "a Secret with empty connection fields (Calico omits empty ones)",
    { clusterAccessSecret: secretRef, etcdEndpoints: "", datastoreType: "" },
  ],
  ["overlay routing enabled", { ...etcdSpec, syncOptions: { overlayRoutingMode: "Enabled" } }],
  ["the fedview staleDataExpiry extension", { ...kubernetesSpec, syncOptions: { staleDataExpiry: "1h30m" } }],
];

describe("the RemoteClusterConfiguration CRD", () => {
  it("is a valid apiextensions.k8s.io/v1 CustomResourceDefinition by the Kubernetes OpenAPI models", () => {
    expect(validateManifest(crd)).toEqual([]);
  });

  it("serves crd.projectcalico.org/v1 remoteclusterconfigurations, cluster-scoped, as config-service uses them", async () => {
    const { RCC_CRD } = await import("@fedview/config-service");
    expect(crd.spec.group).toBe(RCC_CRD.group);
    expect(crd.spec.names.plural).toBe(RCC_CRD.plural);
    expect(crd.metadata.name).toBe(`${RCC_CRD.plural}.${RCC_CRD.group}`);
    expect(crd.spec.scope).toBe("Cluster");
    expect(crd.spec.names.kind).toBe("RemoteClusterConfiguration");
    expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage])).toEqual([[RCC_CRD.version, true, true]]);
  });

  it("has a structural schema", () => {
    expect(structuralProblems(schema)).toEqual([]);
  });

  it("preserves no unknown fields: every RCC field is declared", () => {
    expect(preservingNodes(schema)).toEqual([]);
  });

  it("declares exactly the spec fields of @fedview/model's RCC schema", () => {
    expect(Object.keys(specSchema.properties!).sort()).toEqual(
      Object.keys(RemoteClusterConfigurationSpecSchema.shape).sort(),
    );
  });

  it("declares exactly the syncOptions fields of the model, including the fedview staleDataExpiry extension", () => {
    const declared = Object.keys(specSchema.properties!["syncOptions"]!.properties!).sort();
    expect(declared).toEqual(Object.keys(RemoteClusterSyncOptionsSchema.shape).sort());
    expect(declared).toContain("staleDataExpiry");
  });

  it("declares clusterAccessSecret as a Kubernetes ObjectReference, covering the model's fields", () => {
    const declared = Object.keys(specSchema.properties!["clusterAccessSecret"]!.properties!).sort();
    const objectReference = V1ObjectReference.getAttributeTypeMap()
      .map((a) => a.baseName)
      .sort();
    expect(declared).toEqual(objectReference);
    const modelFields = Object.keys(
      (RemoteClusterConfigurationSpecSchema.shape.clusterAccessSecret.unwrap() as { shape: object }).shape,
    );
    expect(declared).toEqual(expect.arrayContaining(modelFields));
  });

  it("uses the model's enum values and default for datastoreType and overlayRoutingMode", () => {
    const datastoreType = specSchema.properties!["datastoreType"]!;
    // "" is how Calico writes an unset datastoreType next to clusterAccessSecret; the model accepts it.
    expect(datastoreType.enum).toEqual(["etcdv3", "kubernetes", ""]);
    const overlay = specSchema.properties!["syncOptions"]!.properties!["overlayRoutingMode"]!;
    expect(overlay.enum).toEqual(["Enabled", "Disabled"]);
    expect(overlay.default).toBe("Disabled");
  });

  it.each(VALID_SPECS)("accepts %s, as the model does, in the stored crd.projectcalico.org/v1 form", (_label, spec) => {
    const validated = validateRemoteClusterConfiguration(rcc(spec));
    expect(validated.success).toBe(true);
    if (!validated.success) return;
    const stored = toCrdResource(validated.data);
    expect(validateObject(schema, stored)).toEqual([]);
  });

  it.each(VALID_SPECS)("accepts %s as written by hand with kubectl", (_label, spec) => {
    const object = { ...rcc(spec), apiVersion: "crd.projectcalico.org/v1" };
    expect(validateObject(schema, object)).toEqual([]);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ["an unknown datastoreType", { datastoreType: "consul", etcdEndpoints: "http://a:2379" }, "spec.datastoreType"],
    [
      "an unknown overlayRoutingMode",
      { ...etcdSpec, syncOptions: { overlayRoutingMode: "Sometimes" } },
      "spec.syncOptions.overlayRoutingMode",
    ],
    [
      "k8sInsecureSkipTLSVerify as text",
      { ...kubernetesSpec, k8sInsecureSkipTLSVerify: "yes" },
      "spec.k8sInsecureSkipTLSVerify",
    ],
    ["etcdEndpoints as a list", { datastoreType: "etcdv3", etcdEndpoints: ["http://a:2379"] }, "spec.etcdEndpoints"],
    [
      "staleDataExpiry as a number",
      { ...kubernetesSpec, syncOptions: { staleDataExpiry: 600 } },
      "spec.syncOptions.staleDataExpiry",
    ],
  ])("rejects %s, as the model does", (_label, spec, path) => {
    expect(validateRemoteClusterConfiguration(rcc(spec)).success).toBe(false);
    const object = { ...rcc(spec), apiVersion: "crd.projectcalico.org/v1" };
    expect(validateObject(schema, object).map((issue) => issue.path)).toContain(path);
  });

  it("reports a misspelt field that the API server would prune", () => {
    const object = {
      ...rcc({ datastoreType: "etcdv3", etcdEndpoint: "http://a:2379" }),
      apiVersion: "crd.projectcalico.org/v1",
    };
    expect(validateObject(schema, object)).toEqual([
      { path: "spec.etcdEndpoint", message: 'unknown field "etcdEndpoint" (the API server would prune it)' },
    ]);
  });

  it("shows the datastore type and access Secret in kubectl get", () => {
    const columns = (crd.spec.versions[0] as unknown as { additionalPrinterColumns: { jsonPath: string }[] })
      .additionalPrinterColumns;
    const paths = columns.map((c) => c.jsonPath);
    expect(paths).toEqual([".spec.datastoreType", ".spec.clusterAccessSecret.name", ".metadata.creationTimestamp"]);
    for (const path of paths.slice(0, 2)) {
      const [, ...segments] = path.split(".");
      let node: JsonSchema | undefined = schema;
      for (const segment of segments) node = node?.properties?.[segment];
      expect(isRecord(node), path).toBe(true);
    }
  });
});
