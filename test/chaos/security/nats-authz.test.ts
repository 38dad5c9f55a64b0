/**
 * NATS authorization as deployed: TLS with client certificates and one user per role, each with the
 * permissions `@fedview/bus` derives. Every denial the issue names is proven on the real server —
 * the server refuses the operation and nothing reaches the bus — and so is what each role may do.
 */
import {
  type BusConnection,
  ConnectionConfigStore,
  configSubject,
  connectBus,
  createSealingKeyPair,
  DEFAULT_CONNECTIONS_BUCKET,
  openStateReader,
  publishResourceEvent,
  querySubject,
  requestService,
  resourceSubject,
  sealSecrets,
  UnavailableError,
} from "@fedview/bus";
import { createQueryService, type QueryService, readQueryServiceConfig } from "@fedview/query-service";
import { TIMEOUTS, waitFor } from "@fedview/testkit";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, type BusUser, type SecureBus, startSecureBus } from "../lib/secure-bus.js";

let bus: SecureBus;
let query: QueryService;
const open: BusConnection[] = [];

/** A connection as `role`, with the permission violations the server reports on it. */
async function as(role: BusUser): Promise<{ nc: BusConnection; denied: string[] }> {
  const nc = await bus.connect(role);
  open.push(nc);
  const denied: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error" && s.error.name === "PermissionViolationError") denied.push(s.error.message);
    }
  })();
  return { nc, denied };
}

/** Waits for the server to refuse `what` on `subject` (a publish or a subscription) on that connection. */
async function expectDenied(
  conn: { nc: BusConnection; denied: string[] },
  what: "Publish" | "Subscription",
  subject: string,
): Promise<void> {
  await conn.nc.flush().catch(() => {});
  const quoted = `${what} to "${subject}"`;
  await waitFor(() => conn.denied.some((d) => d.includes(quoted)), {
    timeout: TIMEOUTS.eventually,
    message: `the server to refuse ${quoted}`,
  });
}

const EAST_CONFIG = (sender = createSealingKeyPair()) => ({
  v: 1 as const,
  cluster: "east",
  datastoreType: "etcdv3" as const,
  generation: 1,
  status: "valid" as const,
  spec: { etcdEndpoints: ["https://10.0.0.1:2379"] },
  sealed: sealSecrets({ etcdPassword: "pw" }, sender, createSealingKeyPair().getPublicKey()),
});

beforeAll(async () => {
  bus = await startSecureBus();
  const config = readQueryServiceConfig({
    ...bus.env("query-service"),
    FEDVIEW_METRICS_PORT: "off",
    FEDVIEW_LOG_LEVEL: "silent",
  });
  query = createQueryService(config);
  await query.start();
  await query.ready;
  // One connection config in the bucket, written by the operator, for the readers to be refused.
  await using admin = await bus.connect(ADMIN);
  await (await ConnectionConfigStore.open(admin)).put(EAST_CONFIG());
}, TIMEOUTS.serverStart * 2);

afterAll(async () => {
  for (const nc of open) await nc.close().catch(() => {});
  await query?.[Symbol.asyncDispose]();
  await bus?.[Symbol.asyncDispose]();
});

describe("who may connect", () => {
  it("refuses a wrong password, no credentials, a plain connection and TLS without a client certificate", async () => {
    const base = bus.options("query-client");
    const attempts = [
      { ...base, password: "wrong" },
      { servers: base.servers, tls: base.tls },
      { ...base, tls: undefined, servers: bus.nats.urls.map((u) => u.replace("tls://", "nats://")) },
      { ...base, tls: { caFile: base.tls!.caFile } },
    ];
    for (const options of attempts) {
      await expect(connectBus({ ...options, reconnect: { enabled: false }, connectTimeoutMs: 5000 })).rejects.toThrow(
        /cannot connect to NATS/,
      );
    }
  });
});

describe("connectors cannot publish configs", () => {
  it.each(["etcd-connector", "k8s-connector"] as const)(
    "%s can neither put nor delete a connection config",
    async (role) => {
      const conn = await as(role);
      const store = await ConnectionConfigStore.open(conn.nc);
      await expect(store.put({ ...EAST_CONFIG(), cluster: "evil" })).rejects.toThrow(/Permissions Violation/);
      await expectDenied(conn, "Publish", `$KV.${DEFAULT_CONNECTIONS_BUCKET}.etcdv3.evil`);
      await expect(store.delete("etcdv3", "east")).rejects.toThrow(/Permissions Violation/);
      // …while reading them is what they are for.
      expect((await store.get("etcdv3", "east"))?.config.cluster).toBe("east");
      await using admin = await bus.connect(ADMIN);
      const configs = await (await ConnectionConfigStore.open(admin)).list();
      expect(configs.map((c) => c.config.cluster)).toEqual(["east"]);
    },
  );

  it("a connector cannot answer the query or config RPC in a service's place", async () => {
    const conn = await as("etcd-connector");
    conn.nc.subscribe(querySubject("eval"), { queue: "fedview-query" });
    await expectDenied(conn, "Subscription", querySubject("eval"));
    conn.nc.subscribe(configSubject("get"));
    await expectDenied(conn, "Subscription", configSubject("get"));
  });
});

describe("query clients cannot read connection configs", () => {
  it("not through the KV subjects, the JetStream API, others' inboxes or the config RPC", async () => {
    const conn = await as("query-client");
    conn.nc.subscribe(`$KV.${DEFAULT_CONNECTIONS_BUCKET}.>`);
    await expectDenied(conn, "Subscription", `$KV.${DEFAULT_CONNECTIONS_BUCKET}.>`);
    // Where JetStream delivers consumer messages (connection configs to a connector included).
    conn.nc.subscribe("_INBOX.>");
    await expectDenied(conn, "Subscription", "_INBOX.>");
    await expect(ConnectionConfigStore.open(conn.nc)).rejects.toThrow();
    await expectDenied(conn, "Publish", `$JS.API.STREAM.INFO.KV_${DEFAULT_CONNECTIONS_BUCKET}`);
    conn.nc.publish(
      `$JS.API.DIRECT.GET.KV_${DEFAULT_CONNECTIONS_BUCKET}.$KV.${DEFAULT_CONNECTIONS_BUCKET}.etcdv3.east`,
    );
    await expectDenied(
      conn,
      "Publish",
      `$JS.API.DIRECT.GET.KV_${DEFAULT_CONNECTIONS_BUCKET}.$KV.${DEFAULT_CONNECTIONS_BUCKET}.etcdv3.east`,
    );
    await expect(requestService(conn.nc, configSubject("list"), {}, { timeoutMs: 3000 })).rejects.toThrow();
    await expectDenied(conn, "Publish", configSubject("list"));
  });

  it("while it queries the view and follows resource events", async () => {
    const conn = await as("query-client");
    const answer = await requestService<{ result: { clusters: unknown[] } }>(conn.nc, querySubject("status"), {});
    expect(answer.result.clusters).toEqual([]);
    conn.nc.subscribe("fedview.v1.res.>");
    await conn.nc.flush();
    expect(conn.denied).toEqual([]);
  });

  it("the cli role reaches the config RPC (no responders here, not a permission error)", async () => {
    const conn = await as("cli");
    await expect(requestService(conn.nc, configSubject("list"), {}, { timeoutMs: 3000 })).rejects.toBeInstanceOf(
      UnavailableError,
    );
    expect(conn.denied).toEqual([]);
  });
});

describe("nobody but a connector publishes resources", () => {
  const event = {
    v: 1 as const,
    op: "upsert" as const,
    cluster: "east",
    kind: "Profile",
    id: "east/forged",
    revision: "999999",
    generation: 9_999_999_999_999,
    resource: { apiVersion: "projectcalico.org/v3", kind: "Profile", metadata: { name: "east/forged" }, spec: {} },
  };

  it.each(["query-client", "cli", "query-service", "config-service"] as const)(
    "%s cannot publish a resource event, and the state stream does not get it",
    async (role) => {
      const conn = await as(role);
      const subject = resourceSubject("east", "Profile", "east/forged");
      await expect(publishResourceEvent(jetstream(conn.nc), event, { timeoutMs: 3000 })).rejects.toThrow();
      await expectDenied(conn, "Publish", subject);
      await using admin = await bus.connect(ADMIN);
      const jsm = await jetstreamManager(admin);
      expect(await jsm.streams.getMessage("FEDVIEW_STATE", { last_by_subj: subject })).toBeNull();
    },
  );

  it("the etcd connector can", async () => {
    const conn = await as("etcd-connector");
    const ack = await publishResourceEvent(jetstream(conn.nc), {
      ...event,
      id: "east/allowed",
      resource: { ...event.resource, metadata: { name: "east/allowed" } },
    });
    expect(ack.seq).toBeGreaterThan(0);
    expect(conn.denied).toEqual([]);
  });
});

describe("no service changes the topology", () => {
  it.each(["config-service", "etcd-connector", "k8s-connector", "query-service", "cli"] as const)(
    "%s can neither purge nor delete the state stream",
    async (role) => {
      const conn = await as(role);
      conn.nc.publish("$JS.API.STREAM.PURGE.FEDVIEW_STATE", "{}");
      await expectDenied(conn, "Publish", "$JS.API.STREAM.PURGE.FEDVIEW_STATE");
      conn.nc.publish("$JS.API.STREAM.DELETE.FEDVIEW_STATE");
      await expectDenied(conn, "Publish", "$JS.API.STREAM.DELETE.FEDVIEW_STATE");
      conn.nc.publish("$JS.API.STREAM.UPDATE.FEDVIEW_STATE", "{}");
      await expectDenied(conn, "Publish", "$JS.API.STREAM.UPDATE.FEDVIEW_STATE");
    },
  );

  it("the query service reads the state stream and nothing else", async () => {
    const conn = await as("query-service");
    await using reader = await openStateReader(conn.nc);
    for await (const item of reader) if (item.type === "snapshot-complete") break;
    expect(conn.denied).toEqual([]);
    await expect(ConnectionConfigStore.open(conn.nc)).rejects.toThrow();
    await expectDenied(conn, "Publish", `$JS.API.STREAM.INFO.KV_${DEFAULT_CONNECTIONS_BUCKET}`);
  });
});
