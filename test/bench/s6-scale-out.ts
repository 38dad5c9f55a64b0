/**
 * Scenario 6, scale out. 100 remote clusters × 1k endpoints: every cluster's connection config points
 * at the same remote etcd (one etcd per cluster would not fit on the machine; each cluster still has
 * its own client, listing and watch). Time from writing the 100 configs to every cluster InSync, with
 * one connector on an empty stream, then 100 more (new cluster names) with the same connector on the
 * stream now holding 101, then 100 more with two replicas sharing them through leases; the second figure
 * is the limit of the third. Then the query
 * throughput (selective evals over NATS, 32 in flight) with one and with two query-service replicas in
 * the queue group. Limit, same run: the time one connector takes to list and publish one cluster alone.
 */

import { cpus } from "node:os";
import {
  type BusConnection,
  type ClusterStatusMessage,
  querySubject,
  requestService,
  subscribeClusterStatus,
} from "@fedview/bus";
import { startEtcd, waitFor } from "@fedview/testkit";
import { Etcd3 } from "etcd3";
import { clusterName, SELECTORS } from "./fleet.js";
import {
  type Bus,
  type ChildService,
  patience,
  queryStatus,
  sleep,
  spawnConnector,
  spawnQueryService,
  startBus,
} from "./harness.js";
import { fleetEntries, seedEtcd } from "./load.js";
import type { ScenarioContext, ScenarioOutcome } from "./scenarios.js";

/** Applies `names` and resolves with the milliseconds until every one is InSync. */
async function timeToInSync(bus: Bus, names: string[], endpoints: string[]): Promise<number> {
  const inSync = new Set<string>();
  const sub = subscribeClusterStatus(bus.nc);
  const reading = (async () => {
    for await (const s of sub as AsyncIterable<ClusterStatusMessage>) {
      if (s.op === "upsert" && s.status === "InSync") inSync.add(s.cluster);
    }
  })();
  await bus.nc.flush();
  const t0 = performance.now();
  await Promise.all(names.map((name) => bus.applyCluster(name, endpoints)));
  await waitFor(() => names.every((n) => inSync.has(n)), {
    timeout: patience.ms * 1.5,
    interval: 100,
    message: `${names.length} clusters InSync`,
  });
  const ms = performance.now() - t0;
  sub.unsubscribe();
  await reading.catch(() => {});
  return ms;
}

/** Selective evals per second over NATS with `concurrency` callers for `durationMs`. */
async function queryRate(nc: BusConnection, durationMs: number, concurrency = 32): Promise<number> {
  let done = 0;
  const until = performance.now() + durationMs;
  const t0 = performance.now();
  const caller = async (i: number) => {
    while (performance.now() < until) {
      const selector = SELECTORS.selective[(i + done) % SELECTORS.selective.length]!;
      await requestService(nc, querySubject("eval"), { selector }, { timeoutMs: 30_000 });
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, i) => caller(i)));
  return (done * 1000) / (performance.now() - t0);
}

export async function scaleOut(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const clusters = ctx.quick ? 3 : 100;
  const perCluster = ctx.quick ? 200 : 1_000;
  const rateMs = ctx.quick ? 1_000 : 10_000;
  const warmMs = ctx.quick ? 300 : 1_000;
  await using bus = await startBus();
  await using etcd = await startEtcd();
  const client = new Etcd3(await etcd.clientOptions());
  const services: ChildService[] = [];
  try {
    await seedEtcd(client, fleetEntries(perCluster));
    const first = await spawnConnector(bus.nats.url, bus.connectorSeed);
    services.push(first);
    await first.ready();

    const single = await timeToInSync(bus, ["solo"], etcd.endpoints);
    const one = await timeToInSync(
      bus,
      Array.from({ length: clusters }, (_, i) => clusterName(i)),
      etcd.endpoints,
    );
    ctx.log(`one cluster alone ${single.toFixed(0)} ms; ${clusters} clusters on 1 connector ${one.toFixed(0)} ms`);
    ctx.recorder.add({
      name: `${clusters} clusters × ${perCluster} endpoints, 1 connector: configs written → all InSync`,
      value: one,
      unit: "ms",
      limit: { value: single * clusters, what: `${clusters} × one cluster alone (${single.toFixed(0)} ms)` },
    });

    // The limit for two replicas: one connector adding as many clusters to a stream that already holds
    // the first batch (a connector's listing on a large stream costs more than on an empty one, so the
    // first batch alone is not the comparison). The two replicas then add theirs to a stream one batch
    // larger still, which if anything favours this limit.
    const oneLoaded = await timeToInSync(
      bus,
      Array.from({ length: clusters }, (_, i) => `s${clusterName(i)}`),
      etcd.endpoints,
    );
    ctx.log(`${clusters} more on 1 connector, loaded stream: ${oneLoaded.toFixed(0)} ms; starting the second replica`);
    ctx.recorder.add({
      name: `${clusters} more clusters, 1 connector, stream already holding ${clusters + 1}: configs written → all InSync`,
      value: oneLoaded,
      unit: "ms",
      limit: { value: one, what: "the first batch, on an empty stream" },
    });

    const second = await spawnConnector(bus.nats.url, bus.connectorSeed);
    services.push(second);
    await second.ready();
    // Let the replicas even out the clusters they hold before the next batch arrives.
    await sleep(ctx.quick ? 500 : 10_000);
    const two = await timeToInSync(
      bus,
      Array.from({ length: clusters }, (_, i) => `r${clusterName(i)}`),
      etcd.endpoints,
    );
    ctx.log(`${clusters} more on 2 connector replicas: ${two.toFixed(0)} ms`);
    ctx.recorder.add({
      name: `${clusters} more clusters, 2 connector replicas, stream already holding ${2 * clusters + 1}: configs written → all InSync`,
      value: two,
      unit: "ms",
      limit: { value: oneLoaded, what: `the same with 1 connector, stream holding ${clusters + 1}` },
    });

    const q1 = await spawnQueryService(bus.nats.url);
    services.push(q1);
    await q1.ready();
    // Every cluster's endpoints reached the query service.
    const expected = (1 + 3 * clusters) * perCluster;
    await waitFor(async () => (await queryStatus(bus.nc)).endpoints === expected, {
      timeout: patience.ms,
      interval: 200,
      message: `${expected} endpoints of ${1 + 3 * clusters} clusters in the query service`,
    });
    // Warm up (JIT, connections) before measuring.
    await queryRate(bus.nc, warmMs);
    const rate1 = await queryRate(bus.nc, rateMs);
    const q2 = await spawnQueryService(bus.nats.url);
    services.push(q2);
    await q2.ready();
    await queryRate(bus.nc, warmMs);
    const rate2 = await queryRate(bus.nc, rateMs);
    ctx.recorder.add({ name: "selective evals/s over NATS, 1 query service", value: rate1, unit: "req/s" });
    ctx.recorder.add({ name: "selective evals/s over NATS, 2 query-service replicas", value: rate2, unit: "req/s" });
    ctx.recorder.add({ name: "speed-up of 2 query-service replicas over 1", value: rate2 / rate1, unit: "×" });
    ctx.recorder.note(
      `connector CPU: ${services
        .slice(0, 2)
        .map((s) => s.cpu().toFixed(0))
        .join(" + ")} s; every process shares the machine's ${cpus().length} cores`,
    );
    return undefined;
  } finally {
    for (const s of services.reverse()) await Promise.resolve(s[Symbol.asyncDispose]()).catch(() => {});
    client.close();
  }
}
