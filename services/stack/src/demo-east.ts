/**
 * `cluster-east`, the demo's etcd-backed remote: a real etcd over mutual TLS (its data, certificates and
 * port kept in the state dir), holding what Calico's etcd mode stores for a Kubernetes cluster — Nodes,
 * the `kns.*`/`ksa.*` Profiles, WorkloadEndpoints and HostEndpoints. The local cluster reaches it through
 * an RCC that names the CA, certificate and key by file path.
 */
import type { CalicoResource, RemoteClusterConfiguration } from "@fedview/model";
import { type EtcdServer, startEtcd } from "@fedview/testkit";
import { calicoNodeOf, EAST_CLUSTER, EAST_DEMO, hostEndpointOf, profilesOf, workloadEndpointOf } from "./demo-data.js";
import { putCalicoResources } from "./etcd-seed.js";

/** Everything `cluster-east` stores, in Calico's etcd layout. */
export function eastResources(): CalicoResource[] {
  const weps = EAST_DEMO.pods.map((p) => workloadEndpointOf(EAST_CLUSTER, p)).filter((w) => w !== null);
  return [
    ...EAST_DEMO.nodes.map(calicoNodeOf),
    ...profilesOf(EAST_CLUSTER, EAST_DEMO),
    ...weps,
    ...EAST_DEMO.hostEndpoints.map(hostEndpointOf),
  ];
}

/** The running `cluster-east`. */
export interface EastDemo extends AsyncDisposable {
  readonly etcd: EtcdServer;
  /** Its RemoteClusterConfiguration: by file paths, the TLS files kept in the state dir. */
  readonly rcc: RemoteClusterConfiguration;
}

/** Starts `cluster-east`'s etcd in `dir` and, when `seed`, writes its data. */
export async function startEastDemo(options: {
  dir: string;
  port: number;
  peerPort: number;
  seed: boolean;
}): Promise<EastDemo> {
  const etcd = await startEtcd({ dir: options.dir, port: options.port, peerPort: options.peerPort, tls: true });
  try {
    if (options.seed) await putCalicoResources(await etcd.clientOptions(), eastResources());
  } catch (err) {
    await etcd[Symbol.asyncDispose]();
    throw err;
  }
  const tls = etcd.tls!;
  const rcc: RemoteClusterConfiguration = {
    apiVersion: "projectcalico.org/v3",
    kind: "RemoteClusterConfiguration",
    metadata: { name: EAST_CLUSTER },
    spec: {
      datastoreType: "etcdv3",
      etcdEndpoints: etcd.url,
      etcdCACertFile: tls.caFile,
      etcdCertFile: tls.client.certFile,
      etcdKeyFile: tls.client.keyFile,
      syncOptions: { overlayRoutingMode: "Disabled" },
    },
  };
  return {
    etcd,
    rcc,
    [Symbol.asyncDispose]: () => etcd[Symbol.asyncDispose](),
  };
}
