/**
 * Scenario 5, memory. Query service: RSS growth over an empty service, per endpoint, at 100k (one
 * cluster) and at the big fleet's 1M (10 clusters). Connector: RSS growth per watched key once a
 * cluster is InSync. Then a churn run that creates and deletes endpoints (new ids every time) while
 * updating others, sampling both processes' RSS: a leak shows as growth in the second half.
 * RSS includes garbage not yet collected, as an operator's dashboard would show it.
 */
import v8 from "node:v8";
import vm from "node:vm";
import { decodeResourceEvent, subscribeClusterStatus } from "@fedview/bus";
import { FederatedView } from "@fedview/query-service";
import { startEtcd, waitFor } from "@fedview/testkit";
import { Etcd3 } from "etcd3";
import { bigFleet } from "./big-fleet.js";
import { etcdEntry, fleetEndpoint } from "./fleet.js";
import {
  type ChildService,
  patience,
  queryStatus,
  sleep,
  spawnConnector,
  spawnQueryService,
  startBus,
} from "./harness.js";
import { fleetEntries, fleetMessages, publishFleet, seedEtcd } from "./load.js";
import { startPipeline } from "./pipeline.js";
import type { ScenarioContext, ScenarioOutcome } from "./scenarios.js";

const MiB = 2 ** 20;

/** RSS after the process has been idle a moment (lets a pending GC run). */
async function settledRss(child: ChildService, ms = 500): Promise<number> {
  await sleep(ms);
  return child.rss();
}

/** Query-service RSS growth per endpoint over an empty one, on a fresh bus holding `endpoints`. */
async function queryPerEndpoint(
  endpoints: number,
  log: (text: string) => void,
): Promise<{ base: number; rss: number }> {
  await using bus = await startBus();
  let base: number;
  {
    await using empty = await spawnQueryService(bus.nats.url);
    await empty.ready();
    base = await settledRss(empty);
  }
  await publishFleet(bus.nc, 1, endpoints);
  await using loaded = await spawnQueryService(bus.nats.url);
  await loaded.ready();
  const rss = await settledRss(loaded);
  log(`query service: ${(base / MiB).toFixed(0)} MiB empty, ${(rss / MiB).toFixed(0)} MiB with ${endpoints}`);
  return { base, rss };
}

/** Connector RSS growth per watched key: `endpoints` + 1k profiles in one remote etcd. */
async function connectorPerKey(endpoints: number, log: (text: string) => void): Promise<{ base: number; rss: number }> {
  await using bus = await startBus();
  await using etcd = await startEtcd();
  const client = new Etcd3(await etcd.clientOptions());
  try {
    const keys = await seedEtcd(client, fleetEntries(endpoints));
    await using connector = await spawnConnector(bus.nats.url, bus.connectorSeed);
    await connector.ready();
    const base = await settledRss(connector);
    const statuses: string[] = [];
    const sub = subscribeClusterStatus(bus.nc, { cluster: "c001" });
    const reading = (async () => {
      for await (const s of sub) if (s.op === "upsert") statuses.push(s.status);
    })();
    await bus.nc.flush();
    await bus.applyCluster("c001", etcd.endpoints);
    await waitFor(() => statuses.includes("InSync"), {
      timeout: patience.ms * 3,
      interval: 200,
      message: `the connector reports c001 InSync with ${keys} keys`,
    });
    const rss = await settledRss(connector);
    sub.unsubscribe();
    await reading.catch(() => {});
    log(`connector: ${(base / MiB).toFixed(0)} MiB idle, ${(rss / MiB).toFixed(0)} MiB watching ${keys} keys`);
    return { base, rss: rss };
  } finally {
    client.close();
  }
}

/** Live heap + typed arrays per endpoint of a view built in this process, after full GCs. */
function liveBytesPerEndpoint(endpoints: number): { heap: number; arrays: number } {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  gc();
  gc();
  const before = process.memoryUsage();
  const view = new FederatedView();
  for (const m of fleetMessages("c001", endpoints)) view.applyResourceEvent(decodeResourceEvent(m.data, m.subject));
  gc();
  gc();
  const after = process.memoryUsage();
  if (view.endpointCount !== endpoints) throw new Error(`view holds ${view.endpointCount} endpoints`);
  return {
    heap: (after.heapUsed - before.heapUsed) / endpoints,
    arrays: (after.arrayBuffers - before.arrayBuffers) / endpoints,
  };
}

export async function memory(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const small = ctx.quick ? 2_000 : 100_000;
  const judged = !ctx.quick;

  const live = liveBytesPerEndpoint(small);
  ctx.recorder.add({
    name: `view live memory per endpoint at ${small / 1000}k after full GC (heap ${live.heap.toFixed(0)} + typed arrays ${live.arrays.toFixed(0)})`,
    value: live.heap + live.arrays,
    unit: "B",
    target: "≤ 1 KiB",
    ...(judged ? { pass: live.heap + live.arrays <= 1024 } : {}),
  });

  const q1 = await queryPerEndpoint(small, ctx.log);
  const perSmall = (q1.rss - q1.base) / small;
  const fleet = await bigFleet(ctx.quick, ctx.log);
  const big = fleet.clusters * fleet.perCluster;
  let perBig: number;
  {
    await using loaded = await spawnQueryService(fleet.bus.nats.url);
    await loaded.ready();
    const rss = await settledRss(loaded);
    perBig = (rss - q1.base) / big;
    ctx.log(`query service: ${(rss / MiB).toFixed(0)} MiB with ${big}`);
  }
  for (const [n, per] of [
    [small, perSmall],
    [big, perBig],
  ] as const) {
    ctx.recorder.add({
      name: `query-service RSS per endpoint at ${n / 1000}k`,
      value: per,
      unit: "B",
      target: "≤ 1 KiB",
      ...(judged ? { pass: per <= 1024 } : {}),
    });
  }
  ctx.recorder.add({
    name: `query-service growth ${small / 1000}k → ${big / 1000}k: per-endpoint ratio`,
    value: perBig / perSmall,
    unit: "×",
    target: "≈ 1 or below (linear)",
    ...(judged ? { pass: perBig / perSmall <= 1.25 } : {}),
  });

  const connectorSizes = ctx.quick ? [2_000] : [100_000, Number(process.env["BENCH_CONNECTOR_MAX"] ?? 1_000_000)];
  const perKey: number[] = [];
  for (const n of connectorSizes) {
    const c = await connectorPerKey(n, ctx.log);
    perKey.push((c.rss - c.base) / (n + 1000));
    ctx.recorder.add({ name: `connector RSS per watched key at ${n / 1000}k`, value: perKey.at(-1)!, unit: "B" });
  }
  if (connectorSizes.length > 1) {
    ctx.recorder.add({
      name: `connector growth ${connectorSizes[0]! / 1000}k → ${connectorSizes[1]! / 1000}k: per-key ratio`,
      value: perKey[1]! / perKey[0]!,
      unit: "×",
      target: "≈ 1 or below (linear)",
      ...(judged ? { pass: perKey[1]! / perKey[0]! <= 1.25 } : {}),
    });
  }

  await leakRun(ctx, small);
  return undefined;
}

/** Creates and deletes endpoints (fresh ids) and updates others for a while, sampling RSS. */
async function leakRun(ctx: ScenarioContext, endpoints: number): Promise<void> {
  const durationMs = ctx.quick ? 3_000 : 600_000;
  const sampleMs = ctx.quick ? 1_000 : 30_000;
  const rate = ctx.quick ? 100 : 1_000;
  const live = ctx.quick ? 200 : 2_000;
  await using p = await startPipeline(endpoints, ctx.log);
  const samples: { at: number; query: number; connector: number }[] = [];
  const t0 = performance.now();
  let created = 0;
  let failed = 0;
  let next = t0;
  let nextSample = t0;
  while (performance.now() - t0 < durationMs) {
    const now = performance.now();
    if (now >= nextSample) {
      samples.push({ at: now - t0, query: p.query.rss(), connector: p.connector.rss() });
      nextSample += sampleMs;
    }
    // Every 50 ms: rate/20 operations, each a create of a new id plus the delete of one `live` older.
    const ops: ({ request_put: { key: Buffer; value: Buffer } } | { request_delete_range: { key: Buffer } })[] = [];
    for (let i = 0; i < rate / 20; i++) {
      const n = endpoints + created++;
      const { key, value } = etcdEntry(fleetEndpoint(n));
      ops.push({ request_put: { key: Buffer.from(key), value: Buffer.from(value) } });
      if (created > live) {
        ops.push({ request_delete_range: { key: Buffer.from(etcdEntry(fleetEndpoint(n - live)).key) } });
      }
    }
    await p.client.kv.txn({ success: ops }).catch(() => failed++);
    next += 50;
    await sleep(Math.max(0, next - performance.now()));
  }
  await sleep(ctx.quick ? 1_000 : 5_000);
  samples.push({ at: performance.now() - t0, query: p.query.rss(), connector: p.connector.rss() });
  // The view must end with what etcd holds: the fleet plus the `live` newest created endpoints.
  const expected = endpoints + Math.min(created, live);
  await waitFor(async () => (await queryStatus(p.bus.nc)).endpoints === expected, {
    timeout: patience.ms,
    interval: 200,
    message: `the query service to hold the ${expected} endpoints left after the churn (${failed} transactions failed)`,
  });
  const status = await queryStatus(p.bus.nc);
  const half = samples.filter((s) => s.at >= durationMs / 2);
  // Least-squares slope over the second half's samples (MiB per minute): one late GC cannot swing it
  // the way the first-to-last difference would.
  const slope = (key: "query" | "connector") => {
    const xs = half.map((s) => s.at / 60_000);
    const ys = half.map((s) => s[key] / MiB);
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
    const my = ys.reduce((a, b) => a + b, 0) / ys.length;
    let num = 0;
    let den = 0;
    for (let i = 0; i < xs.length; i++) {
      num += (xs[i]! - mx) * (ys[i]! - my);
      den += (xs[i]! - mx) ** 2;
    }
    return den > 0 ? num / den : 0;
  };
  for (const key of ["query", "connector"] as const) {
    ctx.recorder.add({
      name: `${key === "query" ? "query-service" : "connector"} RSS growth, 2nd half of a ${durationMs / 60_000}-min create/delete churn (least-squares slope)`,
      value: slope(key),
      unit: "MiB/min",
      target: "no leak (≈ 0)",
    });
  }
  ctx.recorder.note(
    `churn: ${created} endpoints created and ${Math.max(0, created - live)} deleted at ${rate}/s; ${failed} transactions failed; ` +
      `the view holds ${status.endpoints} endpoints; RSS samples (MiB, query/connector): ` +
      samples.map((s) => `${(s.query / MiB).toFixed(0)}/${(s.connector / MiB).toFixed(0)}`).join(" "),
  );
}
