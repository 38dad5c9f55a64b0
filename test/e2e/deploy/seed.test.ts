/**
 * The compose stack's seeding job (deploy/compose/seed/seed.mjs), run with node against two real etcd
 * servers; what it writes must be what @fedview/model reads from a Calico etcd datastore.
 */
import { execFile } from "node:child_process";
import {
  decodeEtcdResource,
  ETCD_RESOURCE_PREFIX,
  parseWorkloadEndpointName,
  validateRemoteClusterConfiguration,
} from "@fedview/model";
import { type EtcdServer, startEtcd } from "@fedview/testkit";
import { Etcd3 } from "etcd3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoPath } from "./support/repo.js";

const SCRIPT = repoPath("deploy/compose/seed/seed.mjs");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function seed(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [SCRIPT],
      { env: { PATH: process.env["PATH"] ?? "", ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        resolve({ code: error === null ? 0 : typeof error.code === "number" ? error.code : -1, stdout, stderr });
      },
    );
  });
}

async function readAll(server: EtcdServer): Promise<Map<string, string>> {
  const client = new Etcd3(await server.clientOptions());
  try {
    const all = await client.getAll().prefix(ETCD_RESOURCE_PREFIX).strings();
    return new Map(Object.entries(all));
  } finally {
    client.close();
  }
}

describe("the seeding job", () => {
  let localEtcd: EtcdServer;
  let remoteEtcd: EtcdServer;

  beforeAll(async () => {
    [localEtcd, remoteEtcd] = await Promise.all([startEtcd(), startEtcd()]);
  });
  afterAll(async () => {
    await Promise.all([localEtcd?.[Symbol.asyncDispose](), remoteEtcd?.[Symbol.asyncDispose]()]);
  });

  it("writes a remote cluster and a local one, every value a valid Calico resource under its key", async () => {
    const result = await seed({
      SEED_LOCAL_ETCD_ENDPOINTS: localEtcd.url,
      SEED_REMOTE_ETCD_ENDPOINTS: remoteEtcd.url,
      SEED_RCC_ETCD_ENDPOINTS: "http://etcd-remote:2379",
    });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("seed: done: 4 resources in the remote etcd, 4 in the local one");

    const kinds: Record<string, string[]> = { local: [], remote: [] };
    for (const [side, server] of [
      ["local", localEtcd],
      ["remote", remoteEtcd],
    ] as const) {
      for (const [key, value] of await readAll(server)) {
        const decoded = decodeEtcdResource(key, value);
        expect(decoded, key).toMatchObject({ success: true });
        if (!decoded.success) continue;
        kinds[side]!.push(decoded.data.kind);
        if (decoded.data.kind === "WorkloadEndpoint") {
          expect(parseWorkloadEndpointName(decoded.data.metadata.name)).toMatchObject({ orchestrator: "k8s" });
          expect(decoded.data.spec.ipNetworks?.length).toBeGreaterThan(0);
        }
      }
    }
    expect(kinds["remote"]!.sort()).toEqual(["HostEndpoint", "Profile", "WorkloadEndpoint", "WorkloadEndpoint"]);
    expect(kinds["local"]!.sort()).toEqual([
      "GlobalNetworkPolicy",
      "Profile",
      "RemoteClusterConfiguration",
      "WorkloadEndpoint",
    ]);
  });

  it("points the RemoteClusterConfiguration at the remote etcd as the connector reaches it", async () => {
    const local = await readAll(localEtcd);
    const rcc = JSON.parse(local.get(`${ETCD_RESOURCE_PREFIX}remoteclusterconfigurations/remote-a`)!) as unknown;
    const validated = validateRemoteClusterConfiguration(rcc);
    expect(validated).toMatchObject({
      success: true,
      data: { spec: { datastoreType: "etcdv3", etcdEndpoints: "http://etcd-remote:2379" } },
    });
  });

  it("can run again without changing what the datastores hold", async () => {
    const before = [await readAll(localEtcd), await readAll(remoteEtcd)];
    const result = await seed({
      SEED_LOCAL_ETCD_ENDPOINTS: localEtcd.url,
      SEED_REMOTE_ETCD_ENDPOINTS: remoteEtcd.url,
      SEED_RCC_ETCD_ENDPOINTS: "http://etcd-remote:2379",
    });
    expect(result.code).toBe(0);
    expect([await readAll(localEtcd), await readAll(remoteEtcd)]).toEqual(before);
  });

  it("writes the remote's own endpoints into the RCC when no separate address is given", async () => {
    await using scratch = await startEtcd();
    const result = await seed({ SEED_LOCAL_ETCD_ENDPOINTS: scratch.url, SEED_REMOTE_ETCD_ENDPOINTS: remoteEtcd.url });
    expect(result.code).toBe(0);
    const rcc = JSON.parse(
      (await readAll(scratch)).get(`${ETCD_RESOURCE_PREFIX}remoteclusterconfigurations/remote-a`)!,
    );
    expect(rcc.spec.etcdEndpoints).toBe(remoteEtcd.url);
  });

  it("exits 64 naming a missing variable", async () => {
    const result = await seed({ SEED_LOCAL_ETCD_ENDPOINTS: localEtcd.url });
    expect(result.code).toBe(64);
    expect(result.stderr).toContain("SEED_REMOTE_ETCD_ENDPOINTS is required");
  });
});
