/**
 * The Kubernetes API servers the connector tests run against, behind one interface: testkit's
 * Kubernetes API test server (always) and K3s through testcontainers (when a Docker engine answers
 * and `@testcontainers/k3s` is installed). Writes go through the server's own API so that the
 * connector sees them exactly as it would any client's.
 */
import { type KubeApiServer, type PolicyRule, startKubeApiServer, uniqueName } from "@fedview/testkit";
import type { KubernetesConnectionMaterial } from "../src/index.js";

/** A resource as tests name it: a plural of the core group or a Calico CRD. */
export type Ref = string | { group: string; version: string; plural: string };

/** A Kubernetes API server the conformance tests can drive. */
export interface TestCluster extends AsyncDisposable {
  /** For test names: `test server` or `K3s`. */
  readonly name: string;
  /** Creates an object; a pod's `status` is written too (through `/status` where the server needs it). */
  create(ref: Ref, object: object): Promise<void>;
  /** Replaces an object (labels, status) with what is given. */
  update(ref: Ref, object: object): Promise<void>;
  remove(ref: Ref, name: string, namespace?: string): Promise<void>;
  /** Material of a bearer token of a fresh ServiceAccount granted `rules` at the cluster scope. */
  tokenMaterial(rules: PolicyRule[]): Promise<KubernetesConnectionMaterial>;
  /** Material of a client certificate of a user allowed everything. */
  certificateMaterial(): Promise<KubernetesConnectionMaterial>;
}

/** A `TestCluster` over testkit's test server; `server` stays reachable for fault injection. */
export interface TestServerCluster extends TestCluster {
  readonly server: KubeApiServer;
}

/** Wraps a running test server (which the caller disposes). */
export function testServerCluster(server: KubeApiServer): TestServerCluster {
  return {
    name: "test server",
    server,
    async create(ref, object) {
      server.create(ref, object);
    },
    async update(ref, object) {
      server.update(ref, object);
    },
    async remove(ref, name, namespace) {
      server.delete(ref, name, namespace);
    },
    async tokenMaterial(rules) {
      const user = server.addServiceAccountUser("kube-system", uniqueName("fedview"));
      server.grant(user.name, rules);
      return { server: server.url, caCert: server.ca, token: user.token };
    },
    async certificateMaterial() {
      const cert = await server.issueClientCertificate(uniqueName("admin"), ["system:masters"]);
      return { server: server.url, caCert: server.ca, cert: cert.cert, key: cert.key };
    },
    async [Symbol.asyncDispose]() {},
  };
}

/** Starts a test server and wraps it; disposing the cluster stops the server. */
export async function startTestServerCluster(
  options: Parameters<typeof startKubeApiServer>[0] = {},
): Promise<TestServerCluster> {
  const server = await startKubeApiServer(options);
  return { ...testServerCluster(server), [Symbol.asyncDispose]: () => server[Symbol.asyncDispose]() };
}
