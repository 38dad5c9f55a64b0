/**
 * The query service on a real nats-server with JetStream: it loads the state stream, serves the
 * `fedview-query` micro service in a queue group, follows live changes, reports problems with every
 * answer, streams watches, exposes metrics, and after a restart answers from JetStream alone.
 */
import {
  type BusConnection,
  type ClusterStatusMessage,
  connectBus,
  ensureStateStream,
  InvalidRequestError,
  openServiceStream,
  publishClusterStatus,
  publishResourceEvent,
  querySubject,
  type ResourceEvent,
  requestService,
} from "@fedview/bus";
import { LOCAL_CLUSTER } from "@fedview/model";
import { type NatsServer, startNats, uniqueName, waitFor } from "@fedview/testkit";
import { type JetStreamClient, jetstream } from "@nats-io/jetstream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createQueryService,
  type EndpointsResult,
  type EvalResult,
  FederatedView,
  type InventoryItem,
  type InventoryResult,
  type PolicyResult,
  type QueryAnswer,
  type QueryService,
  readQueryServiceConfig,
  type StatusResult,
  type WatchMessage,
} from "../src/index.js";
import { allEvents, FAILED_SINCE, namespace, pod, remove, statuses, upsert } from "./fixtures.js";

let nats: NatsServer;
let nc: BusConnection;
let js: JetStreamClient;
const services: QueryService[] = [];

function startService(env: Record<string, string> = {}): QueryService {
  const config = readQueryServiceConfig({
    FEDVIEW_NATS_URL: nats.url,
    FEDVIEW_METRICS_HOST: "127.0.0.1",
    FEDVIEW_METRICS_PORT: "0",
    FEDVIEW_LOG_LEVEL: "silent",
    FEDVIEW_WATCH_HEARTBEAT_MS: "500",
    ...env,
  });
  const service = createQueryService(config);
  services.push(service);
  return service;
}

async function publishAll(events: ResourceEvent[], statusMessages: ClusterStatusMessage[] = []): Promise<void> {
  for (const event of events) await publishResourceEvent(js, event);
  for (const status of statusMessages) await publishClusterStatus(js, status);
}

/** The engine's answer for the same data, as the wire carries it. */
function reference(events: ResourceEvent[]): FederatedView {
  const view = new FederatedView();
  for (const e of events) view.applyResourceEvent(e);
  for (const s of statuses()) view.applyClusterStatus(s);
  return view;
}

const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

const westProblem = {
  cluster: "west",
  status: "ConnectionFailed",
  error: "dial tcp 10.9.0.1:2379: connect: connection refused",
  since: FAILED_SINCE,
  stale: true,
  staleSince: FAILED_SINCE,
};

beforeEach(async () => {
  nats = await startNats();
  nc = await connectBus({ servers: nats.url, name: uniqueName("test") });
  await ensureStateStream(nc);
  js = jetstream(nc);
});

afterEach(async () => {
  for (const service of services.splice(0)) await service[Symbol.asyncDispose]();
  await nc[Symbol.asyncDispose]();
  await nats[Symbol.asyncDispose]();
});

describe("query service", () => {
  it("answers every verb from the snapshot, with the clusters that are not InSync", async () => {
    const events = allEvents();
    await publishAll(events, statuses());
    const service = startService();
    await service.start();
    await service.ready;
    expect(service.status()).toMatchObject({ ready: true, connected: true, endpoints: 11 });

    const ref = reference(events);
    const evalAnswer = await requestService<QueryAnswer<EvalResult>>(nc, querySubject("eval"), {
      selector: 'app == "api"',
    });
    expect(evalAnswer).toEqual({ result: wire(ref.eval('app == "api"')), problems: [westProblem] });

    const policy = await requestService<QueryAnswer<PolicyResult | null>>(nc, querySubject("policy"), {
      name: "prod/allow-api",
      hideSelectors: true,
    });
    expect(policy).toEqual({
      result: wire(ref.policy("prod/allow-api", { hideSelectors: true })),
      problems: [westProblem],
    });

    const unknown = await requestService<QueryAnswer<PolicyResult | null>>(nc, querySubject("policy"), {
      name: "nope",
    });
    expect(unknown).toEqual({ result: null, problems: [westProblem] });

    const endpoint = await requestService<QueryAnswer<EndpointsResult>>(nc, querySubject("endpoint"), {
      substring: "api",
      hideRuleMatches: true,
    });
    expect(endpoint.result).toEqual(wire(ref.endpoint("api", { hideRuleMatches: true })));

    const host = await requestService<QueryAnswer<EndpointsResult>>(nc, querySubject("host"), {
      hostname: "east/node-a",
    });
    expect(host.result).toEqual(wire(ref.host("east/node-a")));
    expect(host.problems).toEqual([westProblem]);

    const status = await requestService<QueryAnswer<StatusResult>>(nc, querySubject("status"), {});
    expect(status.result.clusters).toEqual(wire(ref.status()));
    expect(status.result.service).toMatchObject({ ready: true, endpoints: 11, readerFailures: 0 });
  });

  it.each([
    ["eval", { selector: "a == b" }, 'Invalid selector: "a == b". '],
    ["eval", {}, "selector"],
    ["policy", { name: "" }, "The policy-name must be specified."],
    ["host", { hostname: 7 }, "hostname"],
    ["endpoint", { substring: "x", hideSelectors: "yes" }, "hideSelectors"],
  ] as const)("refuses a bad %s request %j with a 400", async (verb, payload, text) => {
    await publishAll(allEvents());
    const service = startService();
    await service.start();
    await service.ready;
    const failure = requestService(nc, querySubject(verb), payload);
    await expect(failure).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(failure).rejects.toThrow(text);
  });

  it("follows live changes and drops messages older than what it holds", async () => {
    await publishAll(allEvents(), statuses());
    const service = startService();
    await service.start();
    await service.ready;
    const names = async (selector: string) =>
      (await requestService<QueryAnswer<EvalResult>>(nc, querySubject("eval"), { selector })).result.endpoints.map(
        (e) => e.display_name,
      );

    const newPod = pod({
      ns: "prod",
      name: "api-e2",
      node: "node-b",
      labels: { app: "api" },
      sa: "api",
      ip: "10.1.0.9",
    });
    await publishAll([upsert("east", newPod, 1, 1000)]);
    await waitFor(async () => (await names('app == "api"')).includes("east/node-b/k8s/prod.api-e2/eth0"));

    // A profile change reaches endpoints through inheritance.
    await publishAll([upsert("west", namespace("prod", { env: "production" }), 1, 1001)]);
    await waitFor(async () => (await names('pcns.env == "production"')).includes("west/node-x/k8s/prod.api-w1/eth0"));

    // An older revision of the same resource is dropped (a stale replica, a replay).
    const relabelled = pod({ ns: "prod", name: "api-e2", node: "node-b", labels: { app: "old" }, ip: "10.1.0.9" });
    await publishAll([upsert("east", relabelled, 1, 999)]);
    await publishAll([remove("east", "WorkloadEndpoint", "prod/node--a-k8s-api--e1-eth0", 1, 1002)]);
    await waitFor(async () => !(await names("all()")).includes("east/node-a/k8s/prod.api-e1/eth0"));
    expect(await names('app == "old"')).toEqual([]);
    expect(service.status().dropped).toBeGreaterThanOrEqual(1);

    // The remote comes back: no problem any more.
    await publishAll([], [{ ...statuses()[2]!, status: "InSync", stale: false, since: "2025-03-01T12:00:00.000Z" }]);
    await waitFor(
      async () =>
        (await requestService<QueryAnswer<EvalResult>>(nc, querySubject("eval"), { selector: "all()" })).problems
          .length === 0,
    );
  });

  it("streams a watch: current matches, synced, then changes and problem updates", async () => {
    await publishAll(allEvents(), statuses().slice(0, 2));
    const service = startService();
    await service.start();
    await service.ready;

    await using stream = await openServiceStream<WatchMessage>(nc, querySubject("watch"), {
      selector: 'app == "api" && pcns.env == "production"',
    });
    const messages = stream[Symbol.asyncIterator]();
    const next = async (): Promise<string> => {
      const { value, done } = await messages.next();
      if (done) throw new Error("the watch ended");
      if ("endpoint" in value) return `${value.type} ${value.endpoint.display_name}`;
      return `${value.type} ${value.problems.map((p) => `${p.cluster}:${p.status}`).join(",")}`;
    };
    expect([await next(), await next(), await next()]).toEqual([
      "start east/node-a/k8s/prod.api-e1/eth0",
      "start node-1/k8s/prod.api-5f9/eth0",
      "synced ",
    ]);

    await publishAll([upsert("west", namespace("prod", { env: "production" }), 1, 2000)]);
    expect(await next()).toBe("start west/node-x/k8s/prod.api-w1/eth0");

    await publishAll([remove(LOCAL_CLUSTER, "WorkloadEndpoint", "prod/node--1-k8s-api--5f9-eth0", 1, 2001)]);
    expect(await next()).toBe("stop node-1/k8s/prod.api-5f9/eth0");

    await publishAll([], [statuses()[2]!]);
    expect(await next()).toBe("problems west:ConnectionFailed");
    expect(service.status().watches).toBe(1);

    await stream.close();
    await waitFor(() => service.status().watches === 0);
  });

  it("refuses a watch of a bad selector before it starts", async () => {
    const service = startService();
    await service.start();
    await service.ready;
    await expect(openServiceStream(nc, querySubject("watch"), { selector: "has (a)" })).rejects.toBeInstanceOf(
      InvalidRequestError,
    );
  });

  it("rebuilds from JetStream alone after a restart, with no source running", async () => {
    const events = allEvents();
    await publishAll(events, statuses());
    const first = startService();
    await first.start();
    await first.ready;
    const before = await requestService<QueryAnswer<EndpointsResult>>(nc, querySubject("endpoint"), { substring: "" });
    await first[Symbol.asyncDispose]();
    await expect(
      requestService(nc, querySubject("eval"), { selector: "all()" }, { timeoutMs: 2000 }),
    ).rejects.toThrow();

    // Nothing publishes any more: the new instance has only the stream to go on.
    const second = startService();
    await second.start();
    await second.ready;
    const after = await requestService<QueryAnswer<EndpointsResult>>(nc, querySubject("endpoint"), { substring: "" });
    expect(after).toEqual(before);
    expect(after.result.endpoints).toHaveLength(11);
    expect(after.problems).toEqual([westProblem]);

    // The same after the NATS server itself restarts (JetStream data on disk).
    await second[Symbol.asyncDispose]();
    await nc[Symbol.asyncDispose]();
    await nats.restart();
    nc = await connectBus({ servers: nats.url, name: uniqueName("test") });
    const third = startService();
    await third.start();
    await third.ready;
    const again = await requestService<QueryAnswer<EndpointsResult>>(nc, querySubject("endpoint"), { substring: "" });
    expect(again).toEqual(before);
  });

  it("answers inventory pages that together list the view with its versions", async () => {
    const events = allEvents();
    await publishAll(events, statuses());
    const service = startService();
    await service.start();
    await service.ready;
    const items: InventoryItem[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await requestService<QueryAnswer<InventoryResult>>(nc, querySubject("inventory"), {
        limit: 4,
        ...(after === undefined ? {} : { after }),
      });
      items.push(...page.result.items);
      if (page.result.next === undefined) break;
      after = page.result.next;
    }
    expect(items).toEqual(
      reference(events)
        .inventory()
        .items.map(({ key: _key, ...item }) => item),
    );
    await expect(requestService(nc, querySubject("inventory"), { cluster: "Not A Cluster" })).rejects.toBeInstanceOf(
      InvalidRequestError,
    );
  });

  it("shares requests between replicas through the queue group", async () => {
    await publishAll(allEvents(), statuses());
    const a = startService();
    const b = startService();
    await Promise.all([a.start(), b.start()]);
    await Promise.all([a.ready, b.ready]);
    for (let i = 0; i < 40; i++) {
      const answer = await requestService<QueryAnswer<EvalResult>>(nc, querySubject("eval"), { selector: "has(app)" });
      expect(answer.result.endpoints).toHaveLength(7);
    }
    const served = async (s: QueryService) => {
      const text = await (await fetch(`${s.metricsUrl}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith('fedview_query_requests_total{verb="eval",outcome="ok"}'));
      return Number(line?.split(" ")[1] ?? 0);
    };
    const [na, nb] = [await served(a), await served(b)];
    expect(na + nb).toBe(40);
    expect(na).toBeGreaterThan(0);
    expect(nb).toBeGreaterThan(0);
  });

  it("reports health, readiness and metrics over HTTP", async () => {
    await publishAll(allEvents(), statuses());
    const service = startService();
    await service.start();
    await service.ready;
    await requestService(nc, querySubject("eval"), { selector: "all()" });
    await requestService(nc, querySubject("policy"), { name: "nope" });

    expect((await fetch(`${service.metricsUrl}/healthz`)).status).toBe(200);
    const readyz = await fetch(`${service.metricsUrl}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.json()).toMatchObject({ ready: true, endpoints: 11 });

    const metrics = await (await fetch(`${service.metricsUrl}/metrics`)).text();
    expect(metrics).toContain('fedview_query_requests_total{verb="eval",outcome="ok"} 1');
    expect(metrics).toContain('fedview_query_requests_total{verb="policy",outcome="not_found"} 1');
    expect(metrics).toContain('fedview_query_duration_seconds_count{verb="eval"} 1');
    expect(metrics).toContain('fedview_view_resources{cluster="east",kind="WorkloadEndpoint"} 2');
    expect(metrics).toContain('fedview_view_resources{cluster="_local",kind="HostEndpoint"} 2');
    expect(metrics).toContain('fedview_view_resources{cluster="_local",kind="NetworkPolicy"} 6');
    expect(metrics).toContain('remote_cluster_connection_status{remote_cluster_name="west"} 0');
    expect(metrics).toContain('remote_cluster_connection_status{remote_cluster_name="east"} 2');
    expect(metrics).toContain("fedview_query_ready 1");
  });
});
