/**
 * Every manifest under deploy/k8s against the Kubernetes OpenAPI models, and the references between
 * manifests (selectors, ports, service accounts, roles, Secrets) that the API server does not check but
 * a working deployment needs. The fedview Deployments' environments are checked against each service's
 * own config schema.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateManifest } from "./support/kube-openapi.js";
import {
  type Container,
  type LoadedManifest,
  labelsMatch,
  loadManifests,
  MANIFEST_SETS,
  manifestFiles,
  ofKind,
  type Workload,
  workloads,
} from "./support/manifests.js";
import { DEV_KEYS, filesUnder, readRepoFile, readYamlDocuments, servicesWithEntryPoint } from "./support/repo.js";
import { loadServiceConfig, metricsPortOf, natsServersOf } from "./support/service-config.js";

const local = loadManifests(MANIFEST_SETS.local);
const remote = loadManifests(MANIFEST_SETS.remote);
const all = [...local, ...remote];

/** The fedview services the local cluster runs, one Deployment each. */
const DEPLOYED_SERVICES = ["config-service", "etcd-connector", "k8s-connector", "query-service"];
/** Secrets the operator creates before applying (deploy/k8s/README.md says how), with their keys. */
const OPERATOR_SECRETS: Record<string, Record<string, string>> = {
  "fedview-sealing": {
    "connector-xkey-seed": DEV_KEYS.connectorSeed,
    "connector-xkey-public": DEV_KEYS.connectorPublic,
    "config-xkey-seed": DEV_KEYS.configSeed,
    "config-xkey-public": DEV_KEYS.configPublic,
  },
};

const label = (m: LoadedManifest) => `${m.file} #${m.index} ${m.manifest.kind} ${m.manifest.metadata?.name}`;
const localWorkloads = workloads(local);
const fedviewWorkloads = localWorkloads.filter(
  (w) => w.manifest.metadata.labels?.["app.kubernetes.io/name"] !== "nats",
);
const containerOf = (w: Workload): Container => {
  expect(w.pod.containers).toHaveLength(1);
  return w.pod.containers[0]!;
};

describe("manifests against the Kubernetes OpenAPI models", () => {
  it("finds the manifests", () => {
    expect(ofKind(local, "Deployment")).toHaveLength(DEPLOYED_SERVICES.length);
    expect(ofKind(local, "CustomResourceDefinition")).toHaveLength(1);
    expect(ofKind(remote, "ClusterRole")).toHaveLength(1);
  });

  it.each(all.map((m) => [label(m), m] as const))("%s is valid", (_label, { manifest }) => {
    expect(validateManifest(manifest)).toEqual([]);
  });

  it("names every object once per cluster", () => {
    for (const set of [local, remote]) {
      const ids = set.map(({ manifest: m }) => `${m.kind}/${m.metadata.namespace ?? ""}/${m.metadata.name}`);
      expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    }
  });

  it("puts every namespaced object in a namespace the set creates", () => {
    for (const set of [local, remote]) {
      const namespaces = new Set(ofKind(set, "Namespace").map((n) => n.metadata.name));
      const used = set.map((m) => m.manifest.metadata.namespace).filter((ns): ns is string => ns !== undefined);
      expect(used.filter((ns) => !namespaces.has(ns))).toEqual([]);
    }
  });
});

describe("kustomizations", () => {
  const kustomizations = filesUnder("deploy/k8s", /^kustomization\.yaml$/);

  it.each(kustomizations)("%s lists exactly the manifests and folders beside it", (file) => {
    // The top level is the local cluster's: the remote folder is applied to each remote cluster instead.
    const dir = file.replace(/\/kustomization\.yaml$/, "");
    const [kustomization] = readYamlDocuments(file) as { resources: string[] }[];
    const files = manifestFiles(dir)
      .filter((f) => f.split("/").length === dir.split("/").length + 1)
      .map((f) => f.slice(dir.length + 1));
    const folders = filesUnder(dir, /^kustomization\.yaml$/)
      .filter((f) => f !== file && f.split("/").length === dir.split("/").length + 2)
      .map((f) => f.slice(dir.length + 1).replace(/\/kustomization\.yaml$/, ""))
      .filter((folder) => !(dir === "deploy/k8s" && folder === "remote"));
    expect([...kustomization!.resources].sort()).toEqual([...files, ...folders].sort());
  });

  it("applies the CRD, the services and NATS to the local cluster, the RBAC alone to a remote", () => {
    const [top] = readYamlDocuments("deploy/k8s/kustomization.yaml") as { resources: string[] }[];
    expect(top!.resources.map((r) => `deploy/k8s/${r}`)).toEqual([...MANIFEST_SETS.local]);
    expect(readYamlDocuments("deploy/k8s/remote/kustomization.yaml")).toEqual([
      expect.objectContaining({ resources: ["namespace.yaml", "rbac.yaml"] }),
    ]);
  });
});

describe("workloads", () => {
  it.each(localWorkloads.map((w) => [`${w.manifest.kind} ${w.manifest.metadata.name}`, w] as const))(
    "%s: selector matches its pod labels, probes use declared ports, resources and security are set",
    (_label, w) => {
      expect(labelsMatch(w.selector, w.templateLabels)).toBe(true);
      expect(w.pod.securityContext?.["runAsNonRoot"]).toBe(true);
      for (const container of w.pod.containers) {
        const ports = new Set((container.ports ?? []).flatMap((p) => [p.name, p.containerPort]));
        for (const probe of [container.startupProbe, container.livenessProbe, container.readinessProbe]) {
          expect(probe?.httpGet, `${container.name} probes`).toBeDefined();
          expect(ports.has(probe!.httpGet!.port)).toBe(true);
        }
        expect(container.resources?.requests).toEqual({ cpu: expect.any(String), memory: expect.any(String) });
        expect(container.resources?.limits?.["memory"]).toEqual(expect.any(String));
        expect(container.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ["ALL"] },
        });
        const volumes = new Set((w.pod.volumes ?? []).map((v) => v.name));
        for (const mount of container.volumeMounts ?? []) {
          const claimed = (w.manifest["spec"] as { volumeClaimTemplates?: { metadata: { name: string } }[] })
            .volumeClaimTemplates;
          expect(volumes.has(mount.name) || claimed?.some((c) => c.metadata.name === mount.name)).toBe(true);
        }
      }
    },
  );

  it("runs one Deployment per fedview service, each selecting its entry point with SERVICE", () => {
    const services = fedviewWorkloads.map((w) => {
      const env = containerOf(w).env ?? [];
      return env.find((e) => e.name === "SERVICE")?.value;
    });
    expect(services.sort()).toEqual(DEPLOYED_SERVICES);
    const entryPoints = servicesWithEntryPoint();
    for (const service of services) expect(entryPoints).toContain(service);
  });

  it("uses the fedview image for every fedview container, and pinned images everywhere", () => {
    for (const w of localWorkloads) {
      for (const container of w.pod.containers) expect(container.image).toMatch(/^[\w./-]+:[\w.-]+$/);
    }
    for (const w of fedviewWorkloads) expect(containerOf(w).image).toMatch(/^fedview:/);
  });

  it("gives each workload its own ServiceAccount, defined in its namespace", () => {
    for (const w of fedviewWorkloads) {
      const name = w.pod.serviceAccountName;
      expect(name).toBeDefined();
      const accounts = ofKind(local, "ServiceAccount").filter(
        (sa) => sa.metadata.name === name && sa.metadata.namespace === w.manifest.metadata.namespace,
      );
      expect(accounts).toHaveLength(1);
    }
  });

  it("mounts no Kubernetes API token into services that do not call the API", () => {
    for (const w of fedviewWorkloads) {
      const service = w.manifest.metadata.labels?.["app.kubernetes.io/name"];
      expect(w.pod.automountServiceAccountToken === false, service).toBe(service !== "config-service");
    }
  });
});

describe("Services", () => {
  it.each(ofKind(local, "Service").map((s) => [s.metadata.name, s] as const))(
    "%s selects one workload and targets ports its container declares",
    (_name, service) => {
      const spec = service["spec"] as {
        selector: Record<string, string>;
        ports: { name: string; port: number; targetPort: string | number }[];
      };
      const selected = localWorkloads.filter((w) => labelsMatch(spec.selector, w.templateLabels));
      expect(selected).toHaveLength(1);
      const ports = (selected[0]!.pod.containers[0]!.ports ?? []).flatMap((p) => [p.name, p.containerPort]);
      for (const port of spec.ports) expect(ports).toContain(port.targetPort);
    },
  );
});

describe("Secrets and ConfigMaps that pods use", () => {
  it("refer only to ConfigMaps of the set and to the documented operator-made Secrets and keys", () => {
    const configMaps = new Set(ofKind(local, "ConfigMap").map((c) => c.metadata.name));
    for (const w of localWorkloads) {
      for (const volume of w.pod.volumes ?? []) {
        if (volume.configMap) expect(configMaps.has(volume.configMap.name)).toBe(true);
        if (volume.secret) {
          const keys = OPERATOR_SECRETS[volume.secret.secretName];
          expect(keys, volume.secret.secretName).toBeDefined();
          for (const item of volume.secret.items ?? []) expect(Object.keys(keys!)).toContain(item.key);
        }
      }
      for (const container of w.pod.containers) {
        for (const env of container.env ?? []) {
          const ref = env.valueFrom?.secretKeyRef;
          if (ref) expect(Object.keys(OPERATOR_SECRETS[ref.name] ?? {})).toContain(ref.key);
          expect(env.valueFrom?.configMapKeyRef).toBeUndefined();
        }
      }
    }
  });

  it("are documented in deploy/k8s/README.md, every key", () => {
    const readme = readRepoFile("deploy/k8s/README.md");
    for (const [secret, keys] of Object.entries(OPERATOR_SECRETS)) {
      expect(readme).toContain(secret);
      for (const key of Object.keys(keys)) expect(readme).toContain(key);
    }
  });
});

describe("fedview Deployments against the services' config schemas", () => {
  const scratch = mkdtempSync(join(tmpdir(), "fedview-deploy-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /**
   * The environment a container sees: literal values, Secret values (the development keys), the pod
   * name, and files in mounted Secret volumes replaced by scratch files holding those keys.
   */
  function environmentOf(w: Workload): Record<string, string> {
    const container = containerOf(w);
    const env: Record<string, string> = {};
    for (const entry of container.env ?? []) {
      const ref = entry.valueFrom?.secretKeyRef;
      if (entry.value !== undefined) env[entry.name] = entry.value;
      else if (ref) env[entry.name] = OPERATOR_SECRETS[ref.name]![ref.key]!;
      else if (entry.valueFrom?.fieldRef?.fieldPath === "metadata.name")
        env[entry.name] = `${w.manifest.metadata.name}-0`;
      else throw new Error(`${entry.name}: a value source these checks do not know`);
    }
    for (const mount of container.volumeMounts ?? []) {
      const volume = (w.pod.volumes ?? []).find((v) => v.name === mount.name);
      if (!volume?.secret) continue;
      for (const item of volume.secret.items ?? []) {
        const path = `${mount.mountPath}/${item.path}`;
        for (const [name, value] of Object.entries(env)) {
          if (value !== path) continue;
          const file = join(scratch, `${w.manifest.metadata.name}-${item.path}`);
          writeFileSync(file, `${OPERATOR_SECRETS[volume.secret.secretName]![item.key]}\n`);
          env[name] = file;
        }
      }
    }
    return env;
  }

  const natsService = ofKind(local, "Service").find((s) => s.metadata.name === "nats")!;
  const natsClientPort = (natsService["spec"] as { ports: { name: string; port: number }[] }).ports.find(
    (p) => p.name === "client",
  )!.port;

  it.each(fedviewWorkloads.map((w) => [containerOf(w).env!.find((e) => e.name === "SERVICE")!.value!, w] as const))(
    "%s: every variable is one its config reads, the config is valid, ports and NATS address line up",
    async (service, w) => {
      const reader = await loadServiceConfig(service);
      const env = environmentOf(w);
      const unknown = Object.keys(env).filter((name) => name !== "SERVICE" && !reader.knownVariables.has(name));
      expect(unknown).toEqual([]);

      const config = reader.read(env);
      const port = metricsPortOf(config);
      const container = containerOf(w);
      expect(container.ports?.find((p) => p.name === "metrics")?.containerPort).toBe(port);
      const svc = ofKind(local, "Service").find((s) =>
        labelsMatch((s["spec"] as { selector: Record<string, string> }).selector, w.templateLabels),
      );
      expect(svc).toBeDefined();
      expect((svc!["spec"] as { ports: { port: number }[] }).ports.map((p) => p.port)).toEqual([port]);

      const servers = natsServersOf(config) ?? [];
      expect(servers).toEqual([`nats://nats.${natsService.metadata.namespace}.svc:${natsClientPort}`]);
    },
  );

  it("set every secret through a file or a Secret reference, never a literal", () => {
    for (const w of fedviewWorkloads) {
      for (const entry of containerOf(w).env ?? []) {
        if (/SEED$|PASSWORD$|TOKEN$/.test(entry.name)) expect(entry.value, entry.name).toBeUndefined();
      }
    }
  });

  it("point the connectors at the config-service key and config-service at the connectors' key", () => {
    const envOf = (service: string) =>
      containerOf(fedviewWorkloads.find((w) => w.manifest.metadata.labels?.["app.kubernetes.io/name"] === service)!)
        .env!;
    const ref = (service: string, name: string) => envOf(service).find((e) => e.name === name)?.valueFrom?.secretKeyRef;
    expect(ref("config-service", "FEDVIEW_CONNECTOR_XKEY_PUBLIC")?.key).toBe("connector-xkey-public");
    for (const connector of ["etcd-connector", "k8s-connector"]) {
      expect(ref(connector, "FEDVIEW_CONFIG_XKEY_PUBLIC")?.key).toBe("config-xkey-public");
    }
  });
});
