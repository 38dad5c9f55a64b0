/**
 * Every role's permissions on a real nats-server with JetStream and one user per role, the topology
 * set up by an operator user: each action the role needs works, each one it must not take is denied by
 * the server (the client sees the permission violation, nothing is written).
 */
import { randomBytes } from "node:crypto";
import { type NatsServer, type NatsUser, startNats } from "@fedview/testkit";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type BusConnection,
  CONFIG_SERVICE_NAME,
  configSubject,
  connectBus,
  DEFAULT_CONNECTIONS_BUCKET,
  DEFAULT_LEASES_BUCKET,
  DEFAULT_STATE_STREAM,
  ensureBusTopology,
  ensureStateStream,
  LeaseManager,
  QUERY_SERVICE_NAME,
  querySubject,
  resourceSubject,
  SERVICE_ROLES,
  type ServiceRole,
  serveService,
  servicePermissions,
  statusSubject,
  unaryEndpoint,
} from "../src/index.js";

const LEADER_LEASE = "leader:config-service";
const encoder = new TextEncoder();

let nats: NatsServer;
const passwords = new Map<string, string>();
const opened: BusConnection[] = [];

beforeAll(async () => {
  const users: NatsUser[] = [{ user: "admin", password: randomBytes(8).toString("hex") }];
  for (const role of SERVICE_ROLES) {
    users.push({
      user: role,
      password: randomBytes(8).toString("hex"),
      permissions: servicePermissions(role, { user: role }),
    });
  }
  for (const u of users) passwords.set(u.user, u.password);
  nats = await startNats({ jetstream: true, users });
  await using admin = await connectBus({ servers: nats.url, user: "admin", password: passwords.get("admin")! });
  await ensureBusTopology(admin, { leaseTtlMs: 3000 });
  // A connection config to read, written by the operator.
  const kv = await new Kvm(jetstream(admin)).open(DEFAULT_CONNECTIONS_BUCKET);
  await kv.put("etcdv3.east", encoder.encode('{"v":1}'));
  // And a state message to read.
  await jetstream(admin).publish(statusSubject("operator"), encoder.encode("{}"));
});

afterAll(async () => {
  for (const nc of opened) await nc.close();
  await nats?.[Symbol.asyncDispose]();
});

interface Login {
  nc: BusConnection;
  violations: string[];
}

async function login(role: ServiceRole): Promise<Login> {
  const nc = await connectBus({ servers: nats.url, user: role, password: passwords.get(role)! });
  opened.push(nc);
  const violations: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error" && s.error.name === "PermissionViolationError") violations.push(s.error.message);
    }
  })();
  return { nc, violations };
}

/** The action fails with a permission error, and the server reported a violation matching `subject`. */
async function expectDenied(who: Login, subject: RegExp, action: () => Promise<unknown>): Promise<void> {
  await expect(action()).rejects.toThrow(/permission/i);
  await who.nc.flush();
  await expect.poll(() => who.violations.filter((v) => subject.test(v)), { timeout: 5000 }).not.toEqual([]);
}

/** A core publish the server drops: reported as a violation, never delivered. */
async function expectPublishDenied(who: Login, subject: string): Promise<void> {
  const admin = await connectBus({ servers: nats.url, user: "admin", password: passwords.get("admin")! });
  try {
    const sub = admin.subscribe(subject);
    await admin.flush();
    who.nc.publish(subject, encoder.encode("x"));
    await who.nc.flush();
    await expect.poll(() => who.violations.some((v) => v.includes(`Publish to "${subject}"`))).toBe(true);
    await admin.flush();
    expect(sub.getProcessed()).toBe(0);
  } finally {
    await admin.close();
  }
}

async function expectSubscribeDenied(who: Login, subject: string): Promise<void> {
  who.nc.subscribe(subject);
  await who.nc.flush();
  await expect.poll(() => who.violations.some((v) => v.includes(`Subscription to "${subject}"`))).toBe(true);
}

async function leases(nc: NatsConnection, holder: string): Promise<LeaseManager> {
  return LeaseManager.open(nc, { holder, bucket: DEFAULT_LEASES_BUCKET });
}

async function readConnection(nc: NatsConnection): Promise<string | undefined> {
  const kv = await new Kvm(jetstream(nc)).open(DEFAULT_CONNECTIONS_BUCKET);
  const entry = await kv.get("etcdv3.east");
  return entry?.string();
}

async function writeConnection(nc: NatsConnection, key: string): Promise<number> {
  const kv = await new Kvm(jetstream(nc)).open(DEFAULT_CONNECTIONS_BUCKET);
  return kv.put(key, encoder.encode('{"v":1}'));
}

async function readState(nc: NatsConnection): Promise<number> {
  const consumer = await jetstream(nc).consumers.get(DEFAULT_STATE_STREAM);
  const first = await consumer.next({ expires: 2000 });
  return first?.seq ?? 0;
}

function publishState(nc: NatsConnection, subject: string) {
  return jetstream(nc).publish(subject, encoder.encode("{}"));
}

describe("config-service", () => {
  it("holds its leader lease, writes connection configs and statuses, serves the config RPC", async () => {
    const me = await login("config-service");
    await using lease = await leases(me.nc, "replica-1");
    expect(await lease.claim(LEADER_LEASE)).toBe(true);
    await lease.tick(); // renews it: a compare-and-set update
    expect(lease.held()).toEqual([LEADER_LEASE]);
    await lease.release(LEADER_LEASE);
    expect(lease.status().failures).toBe(0);
    expect(await writeConnection(me.nc, "etcdv3.west")).toBeGreaterThan(0);
    expect((await publishState(me.nc, statusSubject("west"))).seq).toBeGreaterThan(0);
    await using _rpc = await serveService(me.nc, {
      name: CONFIG_SERVICE_NAME,
      version: "0.0.1",
      metadata: { sealingPublicKey: "Xkey" },
      endpoints: { get: unaryEndpoint({ subject: configSubject("get"), handler: async () => ({ ok: true }) }) },
    });
    const cli = await login("cli");
    expect((await cli.nc.request(configSubject("get"), encoder.encode("{}"), { timeout: 5000 })).json()).toEqual({
      ok: true,
    });
    const info = await cli.nc.request(`$SRV.INFO.${CONFIG_SERVICE_NAME}`, undefined, { timeout: 5000 });
    expect(info.json<{ metadata: Record<string, string> }>().metadata["sealingPublicKey"]).toBe("Xkey");
    expect([...me.violations, ...cli.violations]).toEqual([]);
  });

  it("cannot publish resource events nor take a connector's lease", async () => {
    const me = await login("config-service");
    const subject = resourceSubject("east", "WorkloadEndpoint", "x");
    await expectDenied(me, /Publish to "fedview\.v1\.res\.east\./, () => publishState(me.nc, subject));
    await using lease = await leases(me.nc, "replica-1");
    expect(await lease.claim("east")).toBe(false);
    expect(lease.status().lastError).toMatch(/permission/i);
    await expect.poll(() => me.violations.some((v) => v.includes(`"$KV.${DEFAULT_LEASES_BUCKET}.east"`))).toBe(true);
  });
});

describe.each<ServiceRole>(["etcd-connector", "k8s-connector"])("%s", (role) => {
  it("reads connection configs, takes cluster leases, publishes resources and statuses", async () => {
    const me = await login(role);
    expect(await readConnection(me.nc)).toBe('{"v":1}');
    await using lease = await leases(me.nc, `${role}-1`);
    expect(await lease.claim(`east-${role}`)).toBe(true);
    await lease.release(`east-${role}`);
    expect(lease.status().failures).toBe(0);
    expect((await publishState(me.nc, resourceSubject("east", "WorkloadEndpoint", role))).seq).toBeGreaterThan(0);
    expect((await publishState(me.nc, statusSubject("east"))).seq).toBeGreaterThan(0);
    expect(me.violations).toEqual([]);
  });

  it("cannot write a connection config, serve the config RPC, or read another's replies", async () => {
    const me = await login(role);
    await expectDenied(me, /Publish to "\$KV\.fedview-connections\.etcdv3\.evil"/, () =>
      writeConnection(me.nc, "etcdv3.evil"),
    );
    await expectPublishDenied(me, `$KV.${DEFAULT_CONNECTIONS_BUCKET}.etcdv3.evil2`);
    await expectSubscribeDenied(me, configSubject("apply"));
    await expectSubscribeDenied(me, "_INBOX.cli.>");
  });
});

describe("query-service", () => {
  it("reads the state stream and serves the query RPC", async () => {
    const me = await login("query-service");
    expect(await readState(me.nc)).toBeGreaterThan(0);
    await using _rpc = await serveService(me.nc, {
      name: QUERY_SERVICE_NAME,
      version: "0.0.1",
      endpoints: { eval: unaryEndpoint({ subject: querySubject("eval"), handler: async () => ({ n: 1 }) }) },
    });
    const client = await login("query-client");
    const reply = await client.nc.request(querySubject("eval"), encoder.encode("{}"), { timeout: 5000 });
    expect(reply.json()).toEqual({ n: 1 });
    expect([...me.violations, ...client.violations]).toEqual([]);
  });

  it("cannot read connection configs, publish resources, or serve the config RPC", async () => {
    const me = await login("query-service");
    await expectDenied(me, /Publish to "\$JS\.API\.[A-Z.]+\.KV_fedview-connections"/, () => readConnection(me.nc));
    await expectPublishDenied(me, resourceSubject("east", "WorkloadEndpoint", "q"));
    await expectSubscribeDenied(me, configSubject("get"));
  });
});

describe.each<ServiceRole>(["query-client", "cli"])("%s", (role) => {
  it("reads resource events and statuses as they are published", async () => {
    const me = await login(role);
    const sub = me.nc.subscribe("fedview.v1.status.>", { max: 1 });
    await me.nc.flush();
    const connector = await login("etcd-connector");
    await publishState(connector.nc, statusSubject(`seen-by-${role}`));
    for await (const msg of sub) expect(msg.subject).toBe(statusSubject(`seen-by-${role}`));
    expect(me.violations).toEqual([]);
  });

  it("reaches no JetStream API, no connection config, no resource publish, no other inbox", async () => {
    const me = await login(role);
    await expectDenied(me, /Publish to "\$JS\.API\.[A-Z.]+\.KV_fedview-connections"/, () => readConnection(me.nc));
    await expectDenied(me, /Publish to "\$JS\.API\.[A-Z.]+\.FEDVIEW_STATE/, () => readState(me.nc));
    await expectSubscribeDenied(me, `$KV.${DEFAULT_CONNECTIONS_BUCKET}.>`);
    await expectPublishDenied(me, resourceSubject("east", "WorkloadEndpoint", role));
    await expectPublishDenied(me, statusSubject("east"));
    await expectSubscribeDenied(me, "_INBOX.config-service.>");
  });
});

describe("query-client", () => {
  it("cannot reach the config RPC or the config service's metadata", async () => {
    const me = await login("query-client");
    await expectPublishDenied(me, configSubject("get"));
    await expectPublishDenied(me, `$SRV.INFO.${CONFIG_SERVICE_NAME}`);
  });
});

describe("manageTopology", () => {
  it("lets each service set up the stream and buckets it uses on a bare server, and only with the option", async () => {
    const password = "topology-pw";
    const users: NatsUser[] = [];
    for (const role of ["config-service", "etcd-connector", "k8s-connector", "query-service"] as const) {
      users.push({
        user: `${role}-m`,
        password,
        permissions: servicePermissions(role, { user: `${role}-m`, manageTopology: true }),
      });
      users.push({ user: `${role}-u`, password, permissions: servicePermissions(role, { user: `${role}-u` }) });
    }
    await using bare = await startNats({ jetstream: true, users });
    const as = (user: string) => connectBus({ servers: bare.url, user, password });
    {
      await using nc = await as("query-service-u");
      await expect(ensureStateStream(nc)).rejects.toThrow(/permission/i);
    }
    {
      await using nc = await as("query-service-m");
      expect((await ensureStateStream(nc)).config.name).toBe(DEFAULT_STATE_STREAM);
    }
    {
      await using nc = await as("config-service-u");
      await expect(ensureBusTopology(nc, { leaseTtlMs: 3000 })).rejects.toThrow(/permission/i);
    }
    for (const role of ["config-service", "etcd-connector", "k8s-connector"]) {
      await using nc = await as(`${role}-m`);
      // Run again by each: creating once, then finding and reconciling what exists.
      const topology = await ensureBusTopology(nc, { leaseTtlMs: 3000 });
      expect(topology.stateStream.config.name).toBe(DEFAULT_STATE_STREAM);
    }
  });
});
