/**
 * The local stack: nats-server (JetStream) and the embedded etcd as child processes, config-service,
 * both connectors and the query service in this process, and optionally the demo federation; every
 * piece of state in one directory. Started in dependency order, stopped in reverse.
 */
import { join } from "node:path";
import {
  type BusConnection,
  connectBus,
  createSealingKeyPair,
  ensureBusTopology,
  sealingKeyPairFromSeed,
} from "@fedview/bus";
import { LOCAL_CLUSTER } from "@fedview/model";
import { type EtcdServer, startEtcd, startNats } from "@fedview/testkit";
import { EAST_CLUSTER, WEST_ACCESS_SECRET, WEST_CLUSTER } from "./demo-data.js";
import { type EastDemo, startEastDemo } from "./demo-east.js";
import { localResources, westRcc } from "./demo-local.js";
import { startWestDemo, type WestDemo } from "./demo-west.js";
import { StackAbortedError, StackError } from "./errors.js";
import { putCalicoResources } from "./etcd-seed.js";
import {
  chooseLocalDatastore,
  configServiceDatastoreEnv,
  describeLocalDatastore,
  type LocalDatastore,
} from "./local-datastore.js";
import { createStackLogger } from "./logger.js";
import { choosePorts } from "./ports.js";
import { type SecretStore, startSecretStore } from "./secret-store.js";
import {
  createStackConfigService,
  createStackEtcdConnector,
  createStackKubernetesConnector,
  createStackQueryService,
  type ServiceSettings,
  type StackKeys,
} from "./services.js";
import {
  claimStateDir,
  createLayout,
  keptSecret,
  readStackRecord,
  type StateLayout,
  stateLayout,
  writeStackRecord,
} from "./state-dir.js";
import { summaryLines } from "./summary.js";
import type { LocalStack, LocalStackOptions, StackProcesses, StackUrls, SyncReport } from "./types.js";
import { waitForClusters } from "./wait-sync.js";

/** Default of `syncTimeoutMs`: long enough for a slow first start, short enough to say what is wrong. */
export const DEFAULT_SYNC_TIMEOUT_MS = 90_000;
/** How long to wait for config-service's first listing of RCCs, which says which clusters to wait for. */
const CONFIG_SYNC_TIMEOUT_MS = 30_000;

async function stackKeys(layout: StateLayout): Promise<StackKeys> {
  const seed = () => new TextDecoder().decode(createSealingKeyPair().getSeed());
  const connectorSeed = await keptSecret(join(layout.keysDir, "connectors.xkey"), seed);
  const configSeed = await keptSecret(join(layout.keysDir, "config-service.xkey"), seed);
  return {
    connectorSeed,
    connectorPublicKey: sealingKeyPairFromSeed(connectorSeed).getPublicKey(),
    configSeed,
    configPublicKey: sealingKeyPairFromSeed(configSeed).getPublicKey(),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts the stack on `options.stateDir` and waits (bounded by `syncTimeoutMs`) until every cluster is
 * InSync, printing progress and then where everything is. Resolves with the running stack even when a
 * cluster did not sync in time (`stack.sync` says which); rejects — after stopping whatever it started —
 * when a part cannot start or `options.signal` aborts.
 */
export async function createLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const out = options.stdout ?? { write: () => true };
  const say = (line: string) => out.write(`${line}\n`);
  const step = (what: string, where: string) => say(`  ${what.padEnd(36)} ${where}`);
  const layout = stateLayout(options.stateDir);
  const startedAt = Date.now();
  const cleanups: { what: string; run: () => unknown }[] = [];
  const onStop = (what: string, run: () => unknown) => cleanups.push({ what, run });
  const checkSignal = (doing: string) => {
    if (options.signal?.aborted) throw new StackAbortedError(`the start was interrupted while ${doing}`);
  };
  let log: ((what: string, err: unknown) => void) | undefined;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      for (const cleanup of cleanups.reverse()) {
        try {
          await cleanup.run();
        } catch (err) {
          try {
            log?.(cleanup.what, err);
          } catch {
            // The log itself is closed: carry on stopping the rest.
          }
        }
      }
    })();
    return stopping;
  };

  try {
    say(`Starting the fedview stack; state in ${layout.root}`);
    // What the environment asks for is checked before anything starts.
    let local: LocalDatastore = chooseLocalDatastore(options.demo, options.env ?? process.env);
    await createLayout(layout);
    const claim = await claimStateDir(layout, (line) => say(`  ${line}`));
    onStop("releasing the state directory", () => claim.release());
    const record = await readStackRecord(layout);
    const ports = await choosePorts(record.ports, options.ports);
    record.ports = { ...ports };
    await writeStackRecord(layout, record);
    const logs = createStackLogger(layout.logFile, options.logLevel ?? "info");
    onStop("closing the log", () => logs.close());
    const logger = logs.logger.child({ service: "stack" });
    log = (what, err) => logger.warn({ err }, `stopping: ${what} failed`);
    const keys = await stackKeys(layout);

    step("nats-server (JetStream)", `127.0.0.1:${ports.nats}`);
    const nats = await startNats({ dir: layout.natsDir, port: ports.nats, monitorPort: ports.natsMonitor });
    onStop("stopping nats-server", () => nats[Symbol.asyncDispose]());
    const processes: StackProcesses = { nats: nats.nodes[0]!.process.pid! };
    await claim.recordChildren([processes.nats]);
    const nc: BusConnection = await connectBus({ servers: [nats.url], name: "fedview-stack" });
    onStop("closing the stack's NATS connection", () => nc.close());
    await ensureBusTopology(nc);
    checkSignal("starting nats-server");

    let etcd: EtcdServer | undefined;
    if (local.kind === "embedded") {
      step("etcd (the local datastore)", `127.0.0.1:${ports.etcd}`);
      etcd = await startEtcd({ dir: layout.etcdDir, port: ports.etcd, peerPort: ports.etcdPeer });
      const server = etcd;
      onStop("stopping etcd", () => server[Symbol.asyncDispose]());
      processes.etcd = etcd.process.pid!;
      await claim.recordChildren([processes.etcd]);
      checkSignal("starting etcd");
    }

    let east: EastDemo | undefined;
    let west: WestDemo | undefined;
    let secretStore: SecretStore | undefined;
    if (options.demo) {
      if (etcd === undefined) throw new StackError("the demo needs the embedded etcd");
      step(`demo: ${EAST_CLUSTER} (etcd, TLS)`, `127.0.0.1:${ports.eastEtcd}`);
      const eastDemo = await startEastDemo({
        dir: layout.eastEtcdDir,
        port: ports.eastEtcd,
        peerPort: ports.eastEtcdPeer,
        seed: record.seeded.east !== true,
      });
      east = eastDemo;
      onStop(`stopping ${EAST_CLUSTER}`, () => eastDemo[Symbol.asyncDispose]());
      processes.eastEtcd = eastDemo.etcd.process.pid!;
      await claim.recordChildren([processes.eastEtcd]);
      checkSignal(`starting ${EAST_CLUSTER}`);

      step(`demo: ${WEST_CLUSTER} (Kubernetes API)`, `127.0.0.1:${ports.westKubeApi}`);
      const westDemo = await startWestDemo({ dir: layout.westDir, port: ports.westKubeApi });
      west = westDemo;
      onStop(`stopping ${WEST_CLUSTER}`, () => westDemo[Symbol.asyncDispose]());
      step("demo: Secret store (Kubernetes API)", `127.0.0.1:${ports.secretStore}`);
      const store = await startSecretStore({
        dir: layout.secretStoreDir,
        port: ports.secretStore,
        secrets: [{ ...WEST_ACCESS_SECRET, data: { datastoreType: "kubernetes", kubeconfig: westDemo.kubeconfig } }],
      });
      secretStore = store;
      onStop("stopping the Secret store", () => store[Symbol.asyncDispose]());
      local = { kind: "embedded", secretsKubeconfig: store.kubeconfigFile };

      // Seeded once: what a user changes later stays. The RCCs follow the demo's ports and files.
      const etcdOptions = await etcd.clientOptions();
      if (record.seeded.local !== true) await putCalicoResources(etcdOptions, localResources());
      await putCalicoResources(etcdOptions, [eastDemo.rcc, westRcc()]);
      record.seeded = { local: true, east: true };
      await writeStackRecord(layout, record);
      checkSignal("seeding the demo");
    }

    const settings: ServiceSettings = {
      natsUrl: nats.url,
      ports,
      keys,
      logLevel: options.logLevel ?? "info",
      logger: logs.logger,
    };
    step("services", "query-service, config-service, etcd-connector, k8s-connector");
    const query = createStackQueryService(settings);
    onStop("stopping the query service", () => query[Symbol.asyncDispose]());
    await query.start();
    const configService = createStackConfigService(settings, configServiceDatastoreEnv(local, etcd?.url));
    onStop("stopping config-service", () => configService[Symbol.asyncDispose]());
    await configService.start();
    // config-service publishes every RCC's connection config and the local cluster's (`_local`); the
    // connectors of each datastore type serve them. Its first listing says which clusters to wait for.
    const etcdConnector = createStackEtcdConnector(settings);
    onStop("stopping the etcd connector", () => etcdConnector[Symbol.asyncDispose]());
    await etcdConnector.start();
    const kubeConnector = createStackKubernetesConnector(settings);
    onStop("stopping the Kubernetes connector", () => kubeConnector[Symbol.asyncDispose]());
    await kubeConnector.start();
    checkSignal("starting the services");

    const urls: StackUrls = {
      nats: nats.url,
      natsMonitor: nats.nodes[0]!.monitorUrl,
      ...(etcd ? { etcd: etcd.url } : {}),
      metrics: {
        queryService: `http://127.0.0.1:${ports.queryMetrics}`,
        configService: `http://127.0.0.1:${ports.configMetrics}`,
        etcdConnector: `http://127.0.0.1:${ports.etcdConnectorMetrics}`,
        k8sConnector: `http://127.0.0.1:${ports.k8sConnectorMetrics}`,
      },
      ...(east && west && secretStore
        ? { demo: { eastEtcd: east.etcd.url, westKubeApi: west.kube.url, secretStore: secretStore.kube.url } }
        : {}),
    };
    const datastore = describeLocalDatastore(local, etcd?.url);

    const configDeadline = Date.now() + CONFIG_SYNC_TIMEOUT_MS;
    while (configService.status().reconciler?.synced !== true && Date.now() < configDeadline) {
      checkSignal("waiting for config-service to list the RemoteClusterConfigurations");
      await sleep(50);
    }
    if (configService.status().reconciler?.synced !== true) {
      const reasons = configService.status().reasons.join("; ");
      say(`  config-service has not listed the RemoteClusterConfigurations within 30 s: ${reasons}`);
    }
    const timeoutMs = options.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
    say(`Waiting for every cluster to be InSync (up to ${Math.round(timeoutMs / 1000)} s):`);
    const sync: SyncReport = await waitForClusters({
      rows: () => query.view.status(),
      clusters: () => [LOCAL_CLUSTER, ...(configService.status().reconciler?.clusters.map((c) => c.name) ?? []).sort()],
      since: startedAt,
      timeoutMs,
      say,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    checkSignal("waiting for the clusters");
    for (const line of summaryLines({
      stateDir: layout.root,
      urls,
      datastore,
      logFile: layout.logFile,
      demo: options.demo,
      ...(secretStore ? { secretStoreKubeconfig: secretStore.kubeconfigFile } : {}),
      ...(east ? { eastTlsDir: join(layout.eastEtcdDir, "tls") } : {}),
      sync,
      cwd: process.env["INIT_CWD"] ?? process.cwd(),
    })) {
      say(line);
    }

    let stopped: Promise<void> | undefined;
    const stack: LocalStack = {
      stateDir: layout.root,
      ports,
      urls,
      processes,
      datastore,
      sync,
      stop() {
        stopped ??= (async () => {
          say("Stopping the fedview stack…");
          await stop();
          say(`Stopped; the state stays in ${layout.root}.`);
        })();
        return stopped;
      },
      [Symbol.asyncDispose]() {
        return this.stop();
      },
    };
    return stack;
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * `createLocalStack` for a command: runs until `signal` aborts, then stops everything. An abort during
 * the start is the stop that was asked for, not a failure: it resolves once everything is stopped.
 */
export async function runStack(options: LocalStackOptions & { signal: AbortSignal }): Promise<void> {
  let stack: LocalStack;
  try {
    stack = await createLocalStack(options);
  } catch (err) {
    if (err instanceof StackAbortedError) {
      options.stdout?.write("Stopped before the stack was up.\n");
      return;
    }
    throw err;
  }
  try {
    if (!options.signal.aborted) {
      await new Promise<void>((resolve) => options.signal.addEventListener("abort", () => resolve(), { once: true }));
    }
  } finally {
    await stack.stop();
  }
}
