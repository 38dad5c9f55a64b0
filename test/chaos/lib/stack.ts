/**
 * The whole pipeline for a chaos scenario: a TLS NATS with per-role users, a local etcd holding the
 * RCCs, remote clusters on their own etcds, and every service as a child process running as its own
 * NATS user. The test talks to the query service as a `query-client`, like any user.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BusConnection, createSealingKeyPair, querySubject, requestService } from "@fedview/bus";
import type { ClusterStatusRow, QueryAnswer, StatusResult } from "@fedview/query-service";
import { type EtcdServer, startEtcd } from "@fedview/testkit";
import { Etcd3 } from "etcd3";
import { expectExactView, type Versioned } from "./exact.js";
import { applyRcc, type RemoteEtcd, type RemoteEtcdOptions, startRemoteEtcd } from "./remote-etcd.js";
import { type RemoteKube, type RemoteKubeOptions, startRemoteKube } from "./remote-kube.js";
import { type SecureBus, type SecureBusOptions, startSecureBus } from "./secure-bus.js";
import { type ServiceName, type ServiceProcess, serviceProcess } from "./services.js";

export interface ChaosStackOptions {
  /** Remote etcd clusters by name. */
  remotes?: Record<string, RemoteEtcdOptions>;
  /** Remote Kubernetes clusters by name (needs the k8s-connector). */
  kubeRemotes?: Record<string, RemoteKubeOptions>;
  /** Write no RCC at start: the test calls `applyRccs()` (e.g. after it starts listening). */
  deferRccs?: boolean;
  /** NATS nodes (1 or 3). */
  bus?: SecureBusOptions;
  /** Services to run; default config-service, etcd-connector and query-service. */
  services?: ServiceName[];
  /** Extra environment per service (e.g. shorter liveness checks). */
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Endpoints written to each remote before the services start. */
  initialResources?: number;
}

export interface ChaosStack extends AsyncDisposable {
  dir: string;
  bus: SecureBus;
  /** The local datastore (RCCs). */
  local: EtcdServer;
  localClient: Etcd3;
  remotes: Map<string, RemoteEtcd>;
  kubeRemotes: Map<string, RemoteKube>;
  services: Map<ServiceName, ServiceProcess>;
  /** A `query-client` connection: what a user of the query service sees. */
  client: BusConnection;
  service(name: ServiceName): ServiceProcess;
  /** The truth of every remote. */
  truth(): Promise<Versioned[]>;
  /** Waits until the view equals the truth of every remote exactly. */
  expectExact(timeoutMs: number, what?: string): Promise<number>;
  /** Writes the RCC of every remote into the local datastore (done at start unless `deferRccs`). */
  applyRccs(): Promise<void>;
  /** The query service's status row of a cluster. */
  clusterStatus(cluster: string): Promise<ClusterStatusRow | undefined>;
}

/** Settings that make the services notice faults quickly in a test, not in production minutes. */
const QUICK: Record<ServiceName, Record<string, string>> = {
  "config-service": { FEDVIEW_FILE_POLL_INTERVAL_MS: "500" },
  "etcd-connector": {
    FEDVIEW_BACKOFF_INITIAL_MS: "100",
    FEDVIEW_BACKOFF_MAX_MS: "1000",
    FEDVIEW_LIVENESS_INTERVAL_MS: "1000",
    FEDVIEW_LIVENESS_TIMEOUT_MS: "2000",
    FEDVIEW_ETCD_REQUEST_TIMEOUT_MS: "3000",
    FEDVIEW_REBALANCE_INTERVAL_MS: "500",
  },
  "k8s-connector": {
    FEDVIEW_BACKOFF_INITIAL_MS: "100",
    FEDVIEW_BACKOFF_MAX_MS: "1000",
    FEDVIEW_LIVENESS_INTERVAL_MS: "1000",
    FEDVIEW_LIVENESS_TIMEOUT_MS: "2000",
    FEDVIEW_REBALANCE_INTERVAL_MS: "500",
  },
  "query-service": { FEDVIEW_WATCH_HEARTBEAT_MS: "1000" },
};

export async function startChaosStack(options: ChaosStackOptions = {}): Promise<ChaosStack> {
  const dir = await mkdtemp(join(tmpdir(), "fedview-chaos-"));
  const cleanups: (() => Promise<unknown> | unknown)[] = [async () => rm(dir, { recursive: true, force: true })];
  const dispose = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await Promise.resolve(cleanup()).catch(() => {});
  };
  try {
    const bus = await startSecureBus(options.bus);
    cleanups.push(() => bus[Symbol.asyncDispose]());
    const local = await startEtcd();
    cleanups.push(() => local[Symbol.asyncDispose]());
    const localClient = new Etcd3(await local.clientOptions());
    cleanups.push(() => localClient.close());

    const remotes = new Map<string, RemoteEtcd>();
    for (const [name, remoteOptions] of Object.entries(options.remotes ?? {})) {
      const remote = await startRemoteEtcd(name, dir, remoteOptions);
      cleanups.push(() => remote[Symbol.asyncDispose]());
      remotes.set(name, remote);
      await remote.churn.seedInitial(options.initialResources ?? 0);
    }
    const kubeRemotes = new Map<string, RemoteKube>();
    for (const [name, kubeOptions] of Object.entries(options.kubeRemotes ?? {})) {
      const remote = await startRemoteKube(name, dir, kubeOptions);
      cleanups.push(() => remote[Symbol.asyncDispose]());
      kubeRemotes.set(name, remote);
      remote.churn.seedInitial(options.initialResources ?? 0);
    }
    const applyRccs = async () => {
      for (const remote of [...remotes.values(), ...kubeRemotes.values()]) await applyRcc(localClient, remote.rcc());
    };
    if (!options.deferRccs) await applyRccs();

    const connectors = createSealingKeyPair();
    const configKey = createSealingKeyPair();
    const seed = (k: typeof connectors) => new TextDecoder().decode(k.getSeed());
    const base: Record<ServiceName, Record<string, string>> = {
      "config-service": {
        ...bus.env("config-service"),
        DATASTORE_TYPE: "etcdv3",
        ETCD_ENDPOINTS: local.url,
        FEDVIEW_CONNECTOR_XKEY_PUBLIC: connectors.getPublicKey(),
        FEDVIEW_CONFIG_XKEY_SEED: seed(configKey),
      },
      "etcd-connector": {
        ...bus.env("etcd-connector"),
        FEDVIEW_CONNECTOR_XKEY_SEED: seed(connectors),
        FEDVIEW_CONFIG_XKEY_PUBLIC: configKey.getPublicKey(),
      },
      "k8s-connector": {
        ...bus.env("k8s-connector"),
        FEDVIEW_CONNECTOR_XKEY_SEED: seed(connectors),
        FEDVIEW_CONFIG_XKEY_PUBLIC: configKey.getPublicKey(),
      },
      "query-service": { ...bus.env("query-service") },
    };
    const services = new Map<ServiceName, ServiceProcess>();
    for (const name of options.services ?? (["config-service", "etcd-connector", "query-service"] as const)) {
      const service = await serviceProcess(name, { ...base[name], ...QUICK[name], ...options.env?.[name] }, { dir });
      cleanups.push(() => service.kill());
      services.set(name, service);
    }
    // The query service first, so that it is ready when the first events arrive; then the sources.
    await Promise.all([...services.values()].map((s) => s.start()));

    const client = await bus.connect("query-client");
    cleanups.push(() => client.close());
    const clusters = () => [...remotes.keys(), ...kubeRemotes.keys()];
    const truth = async () => [
      ...(await Promise.all([...remotes.values()].map((r) => r.truth()))).flat(),
      ...[...kubeRemotes.values()].flatMap((r) => r.truth()),
    ];

    return {
      dir,
      bus,
      local,
      localClient,
      remotes,
      kubeRemotes,
      services,
      client,
      service: (name) => {
        const service = services.get(name);
        if (service === undefined) throw new Error(`${name} is not part of this stack`);
        return service;
      },
      truth,
      applyRccs,
      async expectExact(timeoutMs, what) {
        try {
          return await expectExactView(client, truth, { clusters: clusters(), timeoutMs, ...(what ? { what } : {}) });
        } catch (err) {
          // Say what the services were doing: the failure is theirs to explain.
          const tails = [...services.values()].map((s) => `--- ${s.name} log ends:\n${s.process.logTail(8)}`);
          throw new Error(`${(err as Error).message}\n${tails.join("\n")}`, { cause: err });
        }
      },
      async clusterStatus(cluster) {
        const answer = await requestService<QueryAnswer<StatusResult>>(client, querySubject("status"), {});
        return answer.result.clusters.find((c) => c.cluster === cluster);
      },
      [Symbol.asyncDispose]: dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}
