/**
 * A remote cluster on the Kubernetes datastore: testkit's Kubernetes API test server with namespaces,
 * service accounts and pods, a ServiceAccount token user granted the RBAC of calico.md §5, the RCC
 * pointing at its kubeconfig file, and a churn of pod creates, label updates and deletes.
 */
import { join } from "node:path";
import { type KubeApiServer, type KubeObject, type PolicyRule, startKubeApiServer } from "@fedview/testkit";
import { kubeTruth, type Versioned } from "./exact.js";
import { type ChurnResult, seededRandom } from "./remote-etcd.js";

/** The ClusterRole a remote grants fedview (calico.md §5): get, list, watch. */
export const FEDVIEW_RULES: PolicyRule[] = [
  {
    apiGroups: [""],
    resources: ["namespaces", "serviceaccounts", "pods", "nodes", "services", "endpoints"],
    verbs: ["get", "list", "watch"],
  },
  {
    apiGroups: ["crd.projectcalico.org"],
    resources: ["hostendpoints", "ippools", "ipamblocks"],
    verbs: ["get", "list", "watch"],
  },
];

const NAMESPACES = ["shop", "ops"];
const NODES = ["k-node-1", "k-node-2"];

export function pod(ns: string, name: string, node: string, labels: Record<string, string>, ip: string) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, labels },
    spec: { nodeName: node, serviceAccountName: "default", containers: [{ name: "main", image: "pause" }] },
    status: { phase: "Running", podIP: ip, podIPs: [{ ip }] },
  };
}

export interface RemoteKube extends AsyncDisposable {
  name: string;
  server: KubeApiServer;
  /** The token of the ServiceAccount fedview reads as. */
  token: string;
  rcc(): Record<string, unknown>;
  truth(): Versioned[];
  churn: KubeChurn;
}

export interface RemoteKubeOptions {
  /** Churn seed. */
  seed: number;
  /** How fedview logs in: a ServiceAccount token (default) or a client certificate. */
  auth?: "token" | "certificate";
  /** Grant the RBAC of calico.md §5 (default true); without it every read is refused with 403. */
  rbac?: boolean;
}

export async function startRemoteKube(name: string, dir: string, options: RemoteKubeOptions): Promise<RemoteKube> {
  const server = await startKubeApiServer({ namespaces: ["default", "kube-system", ...NAMESPACES] });
  const reader = server.addServiceAccountUser("kube-system", "fedview-remote");
  let user = reader.name;
  if (options.auth === "certificate") {
    user = "fedview-remote-cert";
    await server.issueClientCertificate(user);
  }
  if (options.rbac ?? true) server.grant(user, FEDVIEW_RULES);
  const kubeconfig = await server.writeKubeconfig({
    user,
    auth: options.auth ?? "token",
    path: join(dir, `kubeconfig-${name}`),
  });
  for (const ns of NAMESPACES) {
    server.create("serviceaccounts", {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "default", namespace: ns },
    });
  }
  const churn = new KubeChurn(server, options.seed);
  return {
    name,
    server,
    token: reader.token,
    churn,
    rcc: () => ({
      apiVersion: "projectcalico.org/v3",
      kind: "RemoteClusterConfiguration",
      metadata: { name },
      spec: { datastoreType: "kubernetes", kubeconfig },
    }),
    truth: () => kubeTruth(server, name),
    async [Symbol.asyncDispose]() {
      churn.stop();
      await server[Symbol.asyncDispose]();
    },
  };
}

/** Pod creates, label updates and deletes, deterministic for a seed. */
export class KubeChurn {
  readonly #server: KubeApiServer;
  readonly #random: () => number;
  readonly #live = new Map<string, KubeObject>();
  #next = 0;
  #stopped = false;

  constructor(server: KubeApiServer, seed: number) {
    this.#server = server;
    this.#random = seededRandom(seed);
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }

  #create(): void {
    const n = this.#next++;
    const ns = this.#pick(NAMESPACES);
    const created = this.#server.create(
      "pods",
      pod(ns, `kpod-${n}`, this.#pick(NODES), { app: "shop", gen: "0" }, `10.200.${(n >> 8) & 255}.${n & 255}`),
    );
    this.#live.set(`${ns}/kpod-${n}`, created);
  }

  seedInitial(count: number): void {
    for (let i = 0; i < count; i++) this.#create();
  }

  step(): void {
    const roll = this.#random();
    const keys = [...this.#live.keys()];
    if (roll < 0.35 || keys.length === 0) {
      this.#create();
    } else if (roll < 0.65) {
      const key = this.#pick(keys);
      const object = this.#live.get(key)!;
      this.#live.delete(key);
      this.#server.delete("pods", object.metadata.name!, object.metadata.namespace);
    } else {
      const key = this.#pick(keys);
      const object = this.#live.get(key)!;
      const { resourceVersion: _rv, ...metadata } = object.metadata;
      const updated = this.#server.update("pods", {
        ...object,
        metadata: { ...metadata, labels: { ...object.metadata.labels, gen: String(this.#next++) } },
      });
      this.#live.set(key, updated);
    }
  }

  /**
   * Makes `count` changes, spread evenly over `spanMs` when given, yielding to the event loop between
   * them so that watches stream meanwhile.
   */
  async run(count: number, options: { spanMs?: number } = {}): Promise<ChurnResult> {
    this.#stopped = false;
    const started = Date.now();
    const gap = options.spanMs === undefined ? 0 : options.spanMs / count;
    let written = 0;
    for (let i = 0; i < count && !this.#stopped; i++) {
      const due = started + i * gap - Date.now();
      await new Promise((resolve) => (due > 0 ? setTimeout(resolve, due) : setImmediate(resolve)));
      this.step();
      written++;
    }
    return { written, failed: 0 };
  }

  stop(): void {
    this.#stopped = true;
  }
}
