/**
 * Two config-service replicas logged in as the `config-service` role (`servicePermissions`), on a real
 * nats-server where an operator set the topology up: the leader lease is taken, renewed and handed over,
 * sealed applies from a `cli` user are stored and published as connection configs a connector user reads
 * — with no permission violation logged by the server.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type BusConnection,
  CONFIG_SERVICE_NAME,
  connectBus,
  createSealingKeyPair,
  ensureBusTopology,
  type ServiceRole,
  sealSecrets,
  servicePermissions,
} from "@fedview/bus";
import { type EtcdServer, type NatsServer, startEtcd, startNats, waitFor } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConfigServiceConfig } from "../src/config.js";
import type { ApplyResponse } from "../src/handlers/apply.js";
import {
  callConfig,
  createKeys,
  type Keys,
  type RunningService,
  runService,
  serviceConfig,
  watchConnections,
} from "./service-harness.js";

const PASSWORD = "restricted-etcd-pw-4410";
const ROLES: ServiceRole[] = ["config-service", "cli", "etcd-connector"];

let etcd: EtcdServer;
let nats: NatsServer;
let keys: Keys;
const replicas: RunningService[] = [];

function login(role: ServiceRole | "admin") {
  return { servers: nats.url, user: role, password: `${role}-pw` };
}

async function violations(): Promise<string[]> {
  const logs = await Promise.all(nats.nodes.map((n) => readFile(join(nats.dir, `${n.name}.log`), "utf8")));
  return logs.flatMap((text) => text.split("\n").filter((line) => /Violation/.test(line)));
}

beforeAll(async () => {
  etcd = await startEtcd();
  nats = await startNats({
    jetstream: true,
    users: [
      { user: "admin", password: "admin-pw" },
      ...ROLES.map((role) => ({
        user: role,
        password: `${role}-pw`,
        permissions: servicePermissions(role, { user: role }),
      })),
    ],
  });
  await using admin = await connectBus(login("admin"));
  await ensureBusTopology(admin, { leaseTtlMs: 3000 });
  keys = createKeys();
});

afterAll(async () => {
  for (const r of replicas) await r[Symbol.asyncDispose]();
  await nats?.[Symbol.asyncDispose]();
  await etcd?.[Symbol.asyncDispose]();
});

async function replica(id: string): Promise<RunningService> {
  const config: ConfigServiceConfig = {
    ...serviceConfig(nats, keys, { datastoreType: "etcdv3", etcd: { endpoints: etcd.endpoints } }),
    bus: { ...login("config-service"), name: id },
    replicaId: id,
    leaseTtlMs: 3000,
    ensureTopology: false,
  };
  const running = await runService(config);
  replicas.push(running);
  return running;
}

const leading = (r: RunningService) => r.service.status().leadership?.leading === true;

describe("config-service under its role's permissions", () => {
  it("leads, serves sealed applies from the cli role, publishes configs, hands the lease over", async () => {
    const first = await replica("replica-a");
    const second = await replica("replica-b");
    await waitFor(() => [first, second].filter(leading).length === 1, { message: "one leader" });

    await using cli: BusConnection = await connectBus(login("cli"));
    const info = await cli.request(`$SRV.INFO.${CONFIG_SERVICE_NAME}`, undefined, { timeout: 5000 });
    const key = info.json<{ metadata: Record<string, string> }>().metadata["sealingPublicKey"]!;
    const documents = JSON.stringify({
      apiVersion: "projectcalico.org/v3",
      kind: "RemoteClusterConfiguration",
      metadata: { name: "east" },
      spec: { datastoreType: "etcdv3", etcdEndpoints: "https://10.0.0.1:2379", etcdPassword: PASSWORD },
    });
    const applied = await callConfig<ApplyResponse>(cli, "apply", {
      sealed: sealSecrets({ documents }, createSealingKeyPair(), key),
    });
    expect(applied.created).toBe(1);

    // A connector, as its own role, reads the config and opens its secrets.
    await using view = await watchConnections(nats, keys, login("etcd-connector"));
    const config = await waitFor(() => view.latest("east"), { message: "east's connection config" });
    expect(view.open(config)).toMatchObject({ etcdPassword: PASSWORD });

    // The leader goes; the standby takes the lease (create over the released key) and republishes.
    const leader = leading(first) ? first : second;
    const standby = leader === first ? second : first;
    await leader[Symbol.asyncDispose]();
    replicas.splice(replicas.indexOf(leader), 1);
    await waitFor(() => leading(standby), { message: "the standby to lead" });
    // A renewal round or two under the same permissions.
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(leading(standby)).toBe(true);
    expect(standby.service.status().leadership).toMatchObject({ leading: true });
    expect(await violations()).toEqual([]);
  });
});
