import { type CalicoResource, encodeEtcdResource } from "@fedview/model";
import type { EtcdServer } from "@fedview/testkit";
import { Etcd3 } from "etcd3";
import type { EtcdConnectionMaterial } from "../src/index.js";

const API = "projectcalico.org/v3";

/** A k8s WorkloadEndpoint as Calico stores it (name encodes node, orchestrator, pod, endpoint). */
export function wep(
  namespace: string,
  pod: string,
  options: { node?: string; ip?: string | null; labels?: Record<string, string>; profiles?: string[] } = {},
): CalicoResource {
  const node = options.node ?? "node1";
  const segment = (s: string) => s.replace(/-/g, "--");
  return {
    apiVersion: API,
    kind: "WorkloadEndpoint",
    metadata: {
      name: `${segment(node)}-k8s-${segment(pod)}-eth0`,
      namespace,
      labels: { "projectcalico.org/namespace": namespace, "projectcalico.org/orchestrator": "k8s", ...options.labels },
    },
    spec: {
      orchestrator: "k8s",
      node,
      pod,
      endpoint: "eth0",
      interfaceName: `cali${pod.slice(0, 8)}`,
      ...(options.ip === null ? {} : { ipNetworks: [`${options.ip ?? "10.0.0.1"}/32`] }),
      profiles: options.profiles ?? [`kns.${namespace}`],
    },
  } as CalicoResource;
}

export function hep(name: string, node = "node1"): CalicoResource {
  return {
    apiVersion: API,
    kind: "HostEndpoint",
    metadata: { name, labels: { role: "gateway" } },
    spec: { node, interfaceName: "eth0", expectedIPs: ["192.168.0.1"], profiles: ["host-profile"] },
  } as CalicoResource;
}

export function profile(name: string, labels: Record<string, string> = { team: "a" }): CalicoResource {
  return {
    apiVersion: API,
    kind: "Profile",
    metadata: { name },
    spec: {
      labelsToApply: labels,
      ingress: [{ action: "Allow" }],
      egress: [{ action: "Allow" }],
    },
  } as CalicoResource;
}

export function networkPolicy(namespace: string, name: string): CalicoResource {
  return {
    apiVersion: API,
    kind: "NetworkPolicy",
    metadata: { name: `default.${name}`, namespace },
    spec: { tier: "default", order: 100, selector: "app == 'a'", types: ["Ingress"], ingress: [{ action: "Allow" }] },
  } as CalicoResource;
}

export function globalNetworkPolicy(name: string): CalicoResource {
  return {
    apiVersion: API,
    kind: "GlobalNetworkPolicy",
    metadata: { name: `default.${name}` },
    spec: { tier: "default", order: 10, selector: "all()", types: ["Egress"], egress: [{ action: "Deny" }] },
  } as CalicoResource;
}

export function node(name: string): CalicoResource {
  return {
    apiVersion: API,
    kind: "Node",
    metadata: { name },
    spec: { bgp: { ipv4Address: "10.1.0.1/24" } },
  } as CalicoResource;
}

export function ipPool(name: string, cidr = "10.0.0.0/16"): CalicoResource {
  return { apiVersion: API, kind: "IPPool", metadata: { name }, spec: { cidr, vxlanMode: "Always" } } as CalicoResource;
}

/** Writes Calico resources into a real etcd the way Calico stores them; returns each key's mod revision. */
export class CalicoWriter {
  readonly client: Etcd3;

  constructor(client: Etcd3) {
    this.client = client;
  }

  static async connect(etcd: EtcdServer): Promise<CalicoWriter> {
    return new CalicoWriter(new Etcd3(await etcd.clientOptions()));
  }

  async put(resource: CalicoResource): Promise<string> {
    const { key, value } = encodeEtcdResource(resource);
    const res = await this.client.put(key).value(value).exec();
    return res.header.revision;
  }

  async putRaw(key: string, value: string): Promise<string> {
    const res = await this.client.put(key).value(value).exec();
    return res.header.revision;
  }

  async delete(resource: CalicoResource): Promise<string> {
    const { key } = encodeEtcdResource(resource);
    const res = await this.client.delete().key(key).exec();
    return res.header.revision;
  }

  async revision(): Promise<string> {
    const res = await this.client.kv.range({ key: Buffer.from("\0"), limit: 1 });
    return res.header.revision;
  }

  close(): void {
    this.client.close();
  }
}

/** The connection material of a testkit etcd, as config-service would hand it over (contents, not paths). */
export async function materialOf(
  etcd: EtcdServer,
  overrides: Partial<EtcdConnectionMaterial> = {},
): Promise<EtcdConnectionMaterial> {
  const base: EtcdConnectionMaterial = { endpoints: etcd.endpoints };
  if (etcd.tls) {
    base.caCert = etcd.tls.ca;
    base.cert = etcd.tls.client.cert;
    base.key = etcd.tls.client.key;
  }
  if (etcd.auth) {
    base.username = etcd.auth.username;
    base.password = etcd.auth.password;
  }
  return { ...base, ...overrides };
}
