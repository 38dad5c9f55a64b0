import {
  type BusConnection,
  type ClusterStatusMessage,
  ConflictError,
  connectBus,
  NotFoundError,
  subscribeClusterStatus,
} from "@fedview/bus";
import {
  type KubeApiServer,
  type NatsServer,
  startKubeApiServer,
  startNats,
  uniqueName,
  waitFor,
} from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ApplyResponse } from "../src/handlers/apply.js";
import type { ListResponse } from "../src/handlers/list.js";
import type { RccObject } from "../src/types.js";
import { collect } from "./helpers.js";
import {
  callConfig,
  createKeys,
  type Keys,
  type RunningService,
  runService,
  serviceConfig,
  watchConnections,
} from "./service-harness.js";

const CRD = { group: "crd.projectcalico.org", plural: "remoteclusterconfigurations" };
const SECRETS = { group: "", plural: "secrets" };
const TOKEN = "k8s-token-5e6f7a";

function rcc(name: string, spec: Record<string, unknown>, resourceVersion?: string) {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "RemoteClusterConfiguration",
    metadata: { name, ...(resourceVersion ? { resourceVersion } : {}) },
    spec,
  };
}

function accessSecret(name: string, kubeconfig: string) {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: "calico-system" },
    data: {
      datastoreType: Buffer.from("kubernetes").toString("base64"),
      kubeconfig: Buffer.from(kubeconfig).toString("base64"),
    },
  };
}

describe("config service on a Kubernetes datastore", () => {
  let kube: KubeApiServer;
  let nats: NatsServer;
  let keys: Keys;
  let running: RunningService;
  let client: BusConnection;

  beforeAll(async () => {
    [kube, nats] = await Promise.all([startKubeApiServer({ namespaces: ["default", "calico-system"] }), startNats()]);
    keys = createKeys();
    running = await runService(
      serviceConfig(nats, keys, {
        datastoreType: "kubernetes",
        kubernetes: { kubeconfig: await kube.writeKubeconfig() },
      }),
    );
    client = await connectBus({ servers: nats.url });
  });
  afterAll(async () => {
    await client?.[Symbol.asyncDispose]();
    await running?.[Symbol.asyncDispose]();
    await Promise.all([kube?.[Symbol.asyncDispose](), nats?.[Symbol.asyncDispose]()]);
  });

  it("creates, updates, gets, lists and deletes RemoteClusterConfiguration custom resources", async () => {
    const name = uniqueName("k");
    const spec = { datastoreType: "kubernetes", k8sAPIEndpoint: "https://10.3.0.1:6443", k8sAPIToken: TOKEN };
    const created = await callConfig<ApplyResponse>(client, "apply", { objects: [rcc(name, spec)] });
    expect(created.items[0]).toMatchObject({ name, result: "created" });
    const stored = kube.get(CRD, name) as unknown as { apiVersion: string; spec: Record<string, unknown> };
    expect(stored.apiVersion).toBe("crd.projectcalico.org/v1");
    expect(stored.spec["k8sAPIToken"]).toBe(TOKEN);

    const updated = await callConfig<ApplyResponse>(client, "apply", {
      objects: [rcc(name, { ...spec, k8sAPIEndpoint: "https://10.3.0.2:6443" })],
    });
    expect(updated.items[0]?.result).toBe("updated");
    const got = await callConfig<RccObject>(client, "get", { name });
    expect(got.spec["k8sAPIEndpoint"]).toBe("https://10.3.0.2:6443");
    expect(got.spec["k8sAPIToken"]).toBe("[REDACTED]");
    expect(got.metadata.resourceVersion).toBe(updated.items[0]?.resourceVersion);
    const list = await callConfig<ListResponse>(client, "list");
    expect(list.items.map((i) => i.metadata.name)).toContain(name);
    expect(JSON.stringify(list)).not.toContain(TOKEN);

    await callConfig(client, "delete", { name });
    expect(kube.get(CRD, name)).toBeUndefined();
    await expect(callConfig(client, "get", { name })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("refuses stale updates and deletes with a conflict", async () => {
    const name = uniqueName("c");
    const spec = { datastoreType: "kubernetes", k8sAPIEndpoint: "https://10.3.0.1:6443" };
    const first = await callConfig<ApplyResponse>(client, "apply", { objects: [rcc(name, spec)] });
    const stale = first.items[0]?.resourceVersion;
    await callConfig<ApplyResponse>(client, "apply", {
      objects: [rcc(name, { ...spec, k8sAPIEndpoint: "https://10.3.0.9:6443" }, stale)],
    });
    const refused = await callConfig<ApplyResponse>(client, "apply", {
      objects: [rcc(name, { ...spec, k8sAPIEndpoint: "https://10.3.0.7:6443" }, stale)],
    });
    expect(refused.items[0]).toMatchObject({ result: "failed", error: { code: 409 } });
    const stored = kube.get(CRD, name) as unknown as { spec: Record<string, unknown> };
    expect(stored.spec["k8sAPIEndpoint"]).toBe("https://10.3.0.9:6443");
    await expect(callConfig(client, "delete", { name, resourceVersion: stale })).rejects.toBeInstanceOf(ConflictError);
  });

  it("resolves clusterAccessSecret: missing → ConfigIncomplete; created and rotated → new generations with contents", async () => {
    await using view = await watchConnections(nats, keys);
    const name = uniqueName("s");
    const secretName = `${name}-access`;
    const statuses: ClusterStatusMessage[] = collect(subscribeClusterStatus(client, { cluster: name }));
    await client.flush();
    await callConfig<ApplyResponse>(client, "apply", {
      objects: [rcc(name, { clusterAccessSecret: { kind: "Secret", name: secretName, namespace: "calico-system" } })],
    });
    const missing = await waitFor(() => view.latest(name), { message: "the ConfigIncomplete config" });
    const error = `spec.clusterAccessSecret: Secret calico-system/${secretName} not found; create it or fix the reference`;
    expect(missing).toMatchObject({ status: "invalid", error });
    // Until the Secret says which datastore type the cluster uses, connectors of both types are told.
    expect((await view.store.get("etcdv3", name))?.config.status).toBe("invalid");
    expect((await view.store.get("kubernetes", name))?.config.status).toBe("invalid");
    await waitFor(
      () => statuses.some((s) => s.op === "upsert" && s.status === "ConfigIncomplete" && s.error === error),
      {
        message: "the ConfigIncomplete status",
      },
    );

    const remote = kube.kubeconfig({ server: "https://10.4.0.1:6443", token: "first-token" });
    kube.create(SECRETS, accessSecret(secretName, remote));
    const valid = await waitFor(() => (view.latest(name)?.status === "valid" ? view.latest(name) : undefined), {
      message: "the valid config once the Secret exists",
    });
    expect(valid.datastoreType).toBe("kubernetes");
    expect(view.open(valid)).toEqual({ kubeconfig: remote });
    expect(await view.store.get("etcdv3", name)).toBeNull();

    const rotated = kube.kubeconfig({ server: "https://10.4.0.1:6443", token: "rotated-token" });
    kube.update(SECRETS, accessSecret(secretName, rotated));
    const after = await waitFor(
      () => {
        const latest = view.latest(name);
        return latest && latest.generation > valid.generation ? latest : undefined;
      },
      { message: "a new generation after the token rotation" },
    );
    expect(view.open(after)).toEqual({ kubeconfig: rotated });

    kube.delete(SECRETS, secretName, "calico-system");
    const gone = await waitFor(() => (view.latest(name)?.status === "invalid" ? view.latest(name) : undefined), {
      message: "ConfigIncomplete once the Secret is deleted",
    });
    expect(gone.error).toBe(error);
    // It had the kubernetes type; only those connectors hold its data.
    expect(gone.datastoreType).toBe("kubernetes");
    expect(await view.store.get("etcdv3", name)).toBeNull();
  });
});
