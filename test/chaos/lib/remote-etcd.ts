/**
 * Remote clusters on etcd: a real etcd with Calico v3 data under its keys, the RCC that points a
 * config service at it (endpoints and certificate files, as an operator writes it), and a churn that
 * creates, updates and deletes endpoints and profiles directly in it.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type CalicoResource,
  encodeEtcdResource,
  encodeWorkloadEndpointName,
  type HostEndpoint,
  type Profile,
  type WorkloadEndpoint,
} from "@fedview/model";
import { type EtcdServer, type EtcdUser, startEtcd } from "@fedview/testkit";
import { Etcd3 } from "etcd3";
import { etcdTruth, type Versioned } from "./exact.js";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.js";

const RCC_PREFIX = "/calico/resources/v3/projectcalico.org/remoteclusterconfigurations/";

/** A deterministic PRNG (mulberry32), so that a failing churn can be replayed from its seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMESPACES = ["prod", "dev", "batch"];
const NODES = ["node-a", "node-b", "node-c"];
const APPS = ["web", "api", "db", "cache"];

/** A WorkloadEndpoint as Calico stores it for a k8s pod. */
export function workloadEndpoint(ns: string, pod: string, node: string, labels: Record<string, string>, ip: string) {
  const name = encodeWorkloadEndpointName({ node, orchestrator: "k8s", workload: pod, endpoint: "eth0" });
  const wep: WorkloadEndpoint = {
    apiVersion: "projectcalico.org/v3",
    kind: "WorkloadEndpoint",
    metadata: { name, namespace: ns, labels: { ...labels, "projectcalico.org/namespace": ns } },
    spec: {
      orchestrator: "k8s",
      node,
      pod,
      endpoint: "eth0",
      interfaceName: `cali${pod.slice(0, 8)}`,
      ipNetworks: [`${ip}/32`],
      profiles: [`kns.${ns}`],
    },
  } as WorkloadEndpoint;
  return wep;
}

export function profile(name: string, labels: Record<string, string>): Profile {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "Profile",
    metadata: { name },
    spec: { labelsToApply: labels },
  } as Profile;
}

export function hostEndpoint(name: string, node: string, labels: Record<string, string>): HostEndpoint {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "HostEndpoint",
    metadata: { name, labels },
    spec: { node, interfaceName: "eth0", expectedIPs: ["192.168.10.1"] },
  } as HostEndpoint;
}

export async function put(client: Etcd3, resource: CalicoResource): Promise<void> {
  const { key, value } = encodeEtcdResource(resource);
  await client.put(key).value(value);
}

export async function remove(client: Etcd3, resource: CalicoResource): Promise<void> {
  await client.delete().key(encodeEtcdResource(resource).key);
}

/** What a churn run did. */
export interface ChurnResult {
  written: number;
  failed: number;
}

/** A remote cluster on its own etcd. */
export interface RemoteEtcd extends AsyncDisposable {
  name: string;
  etcd: EtcdServer;
  /** A root client of the remote etcd (reconnects after a restart). */
  client: Etcd3;
  /** Where its RCC's certificate files are. */
  dir: string;
  /** Its RemoteClusterConfiguration, as an operator writes it; `endpoint` replaces etcd's own URL. */
  rcc(endpoint?: string): Record<string, unknown>;
  truth(): Promise<Versioned[]>;
  churn: Churn;
  /** The proxy the RCC points at, with `proxied`. */
  proxy?: TcpProxy;
}

export interface RemoteEtcdOptions {
  /** Reach it through a TCP proxy the test can cut (`proxy` of the remote). */
  proxied?: boolean;
  /** Serve TLS and require client certificates (the RCC names the files). Default true. */
  tls?: boolean;
  /** Turn etcd authentication on with a read-only user the RCC logs in as. */
  readerUser?: boolean;
  /** Turn etcd authentication on with these users instead (the RCC logs in as `login`). */
  users?: EtcdUser[];
  /** The user name and password the RCC gives (default the reader's, with `readerUser`). */
  login?: { username: string; password: string };
  /** The CA file the RCC names instead of the remote's own (a wrong CA). */
  caFile?: string;
  /** Seed of its churn. */
  seed?: number;
}

/** The read-only etcd user of a remote with `readerUser`. */
export const READER: EtcdUser = { name: "fedview-reader", password: "reader-pw-6d1f0b", read: ["/calico/"] };

export async function startRemoteEtcd(name: string, dir: string, options: RemoteEtcdOptions = {}): Promise<RemoteEtcd> {
  const tls = options.tls ?? true;
  const users = options.users ?? (options.readerUser ? [READER] : undefined);
  const login =
    options.login ?? (options.readerUser ? { username: READER.name, password: READER.password } : undefined);
  const etcd = await startEtcd({ tls, ...(users === undefined ? {} : { auth: { users } }) });
  // The truth is read in one range per kind, at one revision: let it be as large as the remote holds.
  const client = new Etcd3({ ...(await etcd.clientOptions()), grpcOptions: { "grpc.max_receive_message_length": -1 } });
  const certDir = join(dir, `rcc-${name}`);
  await mkdir(certDir, { recursive: true });
  const files = { ca: join(certDir, "ca.pem"), cert: join(certDir, "cert.pem"), key: join(certDir, "key.pem") };
  if (etcd.tls) {
    await writeFile(files.ca, etcd.tls.ca);
    await writeFile(files.cert, etcd.tls.client.cert);
    await writeFile(files.key, etcd.tls.client.key, { mode: 0o600 });
  }
  const churn = new Churn(client, options.seed ?? Date.now());
  const proxy = options.proxied ? await startTcpProxy("127.0.0.1", Number(new URL(etcd.url).port)) : undefined;
  const scheme = new URL(etcd.url).protocol;
  return {
    name,
    etcd,
    client,
    dir: certDir,
    churn,
    ...(proxy === undefined ? {} : { proxy }),
    rcc: (endpoint = proxy === undefined ? etcd.url : `${scheme}//${proxy.address}`) => ({
      apiVersion: "projectcalico.org/v3",
      kind: "RemoteClusterConfiguration",
      metadata: { name },
      spec: {
        datastoreType: "etcdv3",
        etcdEndpoints: endpoint,
        ...(etcd.tls
          ? { etcdCACertFile: options.caFile ?? files.ca, etcdCertFile: files.cert, etcdKeyFile: files.key }
          : {}),
        ...(login === undefined ? {} : { etcdUsername: login.username, etcdPassword: login.password }),
      },
    }),
    truth: () => etcdTruth(client, name),
    async [Symbol.asyncDispose]() {
      churn.stop();
      client.close();
      await proxy?.[Symbol.asyncDispose]();
      await etcd[Symbol.asyncDispose]();
    },
  };
}

/** Writes an RCC into the local etcd datastore, where the config service lists and watches them. */
export async function applyRcc(local: Etcd3, rcc: Record<string, unknown>): Promise<void> {
  const name = (rcc["metadata"] as { name: string }).name;
  await local.put(`${RCC_PREFIX}${name}`).value(JSON.stringify(rcc));
}

export async function deleteRcc(local: Etcd3, name: string): Promise<void> {
  await local.delete().key(`${RCC_PREFIX}${name}`);
}

/**
 * Changes to one remote: creates, label updates and deletes of WorkloadEndpoints, with now and then a
 * Profile or HostEndpoint change, keeping the population near its initial size. Deterministic for a
 * seed; every change is a single etcd write.
 */
export class Churn {
  readonly #client: Etcd3;
  readonly #random: () => number;
  readonly seed: number;
  readonly #live = new Map<string, WorkloadEndpoint>();
  #next = 0;
  #target = 0;
  #stopped = false;
  /** Changes written so far. */
  writes = 0;

  constructor(client: Etcd3, seed: number) {
    this.#client = client;
    this.seed = seed;
    this.#random = seededRandom(seed);
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)]!;
  }

  #newEndpoint(): WorkloadEndpoint {
    const n = this.#next++;
    const ns = this.#pick(NAMESPACES);
    const ip = `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
    return workloadEndpoint(ns, `pod-${n}`, this.#pick(NODES), { app: this.#pick(APPS), gen: "0" }, ip);
  }

  /** Writes the profiles, host endpoints and `count` endpoints a scenario starts from. */
  async seedInitial(count: number): Promise<void> {
    for (const ns of NAMESPACES) await put(this.#client, profile(`kns.${ns}`, { "pcns.team": ns }));
    for (const node of NODES) await put(this.#client, hostEndpoint(`${node}-eth0`, node, { role: "edge" }));
    const writes: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const wep = this.#newEndpoint();
      this.#live.set(wep.metadata.name, wep);
      writes.push(put(this.#client, wep));
      if (writes.length >= 50) await Promise.all(writes.splice(0));
    }
    await Promise.all(writes);
    this.#target = count;
  }

  /**
   * Rewrites `count` live endpoints with an annotation of `bytes` bytes: large events through the
   * whole pipeline (the bus and every subscriber carry them; the view ignores annotations).
   */
  async bloat(count: number, bytes: number): Promise<number> {
    const names = [...this.#live.keys()].slice(0, count);
    for (const name of names) {
      const wep = this.#live.get(name)!;
      const updated = {
        ...wep,
        metadata: { ...wep.metadata, annotations: { "chaos/ballast": String(this.#next++).padEnd(bytes, "x") } },
      };
      this.#live.set(name, updated);
      await put(this.#client, updated);
    }
    return names.length;
  }

  /** One random change. */
  async step(): Promise<void> {
    const roll = this.#random();
    const names = [...this.#live.keys()];
    if (roll < 0.05) {
      await put(this.#client, profile(`kns.${this.#pick(NAMESPACES)}`, { "pcns.team": String(this.#next) }));
    } else if (roll < 0.08) {
      const node = this.#pick(NODES);
      await put(this.#client, hostEndpoint(`${node}-eth0`, node, { role: "edge", v: String(this.#next) }));
    } else if (roll < 0.35 || names.length === 0 || (names.length < this.#target && roll < 0.55)) {
      const wep = this.#newEndpoint();
      this.#live.set(wep.metadata.name, wep);
      await put(this.#client, wep);
    } else if (roll < 0.65 && names.length > 0) {
      const name = this.#pick(names);
      const wep = this.#live.get(name)!;
      this.#live.delete(name);
      await remove(this.#client, wep);
    } else {
      const wep = this.#live.get(this.#pick(names))!;
      const updated = {
        ...wep,
        metadata: { ...wep.metadata, labels: { ...wep.metadata.labels, gen: String(this.#next++) } },
      };
      this.#live.set(updated.metadata.name, updated);
      await put(this.#client, updated);
    }
    this.writes++;
  }

  /**
   * Makes `count` changes, `concurrency` at a time (etcd serialises them; each is its own revision),
   * spread evenly over `spanMs` when given so that faults injected meanwhile land in the middle of
   * the churn. Stops early on `stop()`. Write failures (the etcd is down) are counted, not thrown.
   */
  async run(count: number, options: { spanMs?: number; concurrency?: number } = {}): Promise<ChurnResult> {
    this.#stopped = false;
    const started = Date.now();
    const gap = options.spanMs === undefined ? 0 : options.spanMs / count;
    let written = 0;
    let failed = 0;
    let issued = 0;
    const worker = async () => {
      while (issued < count && !this.#stopped) {
        const n = issued++;
        const due = started + n * gap - Date.now();
        if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
        try {
          await this.step();
          written++;
        } catch {
          failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 4 }, worker));
    return { written, failed };
  }

  stop(): void {
    this.#stopped = true;
  }
}
