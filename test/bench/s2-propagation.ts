/**
 * Scenario 2, propagation latency: steady churn (1k updates/s) on the remote etcd; each update flips an
 * endpoint's `probe` label, so it starts or stops a match of `probe == "on"` in a query-service
 * `watch` opened over NATS. Latency: from sending the etcd put to receiving the watch event.
 * Limit: the round trip of an etcd put plus that of a NATS request to an echo service, same run.
 */
import {
  type BusConnection,
  openServiceStream,
  querySubject,
  serveService,
  subscribeResourceEvents,
  unaryEndpoint,
} from "@fedview/bus";
import type { WatchMessage } from "@fedview/query-service";
import type { Etcd3 } from "etcd3";
import { churn, podNumber, probeValues } from "./churn.js";
import { percentile } from "./harness.js";
import { startPipeline } from "./pipeline.js";
import type { ScenarioContext, ScenarioOutcome } from "./scenarios.js";

/** Median and p99 of `runs` sequential round trips of `op`. */
async function roundTrips(runs: number, op: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await op();
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

/** Sorted round trips of a NATS request to an echo micro service (the service path, minus any work). */
export async function echoRoundTrips(nc: BusConnection, runs = 200): Promise<number[]> {
  const subject = `bench.echo.${Date.now()}`;
  await using _echo = await serveService(nc, {
    name: "bench-echo",
    version: "0.0.1",
    endpoints: { echo: unaryEndpoint({ subject, handler: (request: unknown) => request }) },
  });
  return await roundTrips(runs, () => nc.request(subject, "{}", { timeout: 5000 }));
}

/** p50 and p99 of an etcd put plus those of a NATS echo request: the least a change can take to cross. */
export async function transportFloor(client: Etcd3, nc: BusConnection): Promise<{ p50: number; p99: number }> {
  const puts = await roundTrips(200, () => client.put("/bench/probe").value("x").exec());
  const echoes = await echoRoundTrips(nc);
  return { p50: percentile(puts, 50) + percentile(echoes, 50), p99: percentile(puts, 99) + percentile(echoes, 99) };
}

export async function propagation(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const endpoints = ctx.quick ? 500 : 10_000;
  const rate = ctx.quick ? 200 : 1_000;
  const durationMs = ctx.quick ? 3_000 : 30_000;
  await using p = await startPipeline(endpoints, ctx.log);
  const floor = await transportFloor(p.client, p.bus.nc);
  const values = probeValues(endpoints);

  const sentAt = new Float64Array(endpoints);
  const onBusAt = new Float64Array(endpoints);
  const latencies: number[] = [];
  const toBus: number[] = [];
  // The same events as the connector publishes them on core NATS: splits the latency in two.
  const busEvents = subscribeResourceEvents(p.bus.nc, { cluster: p.cluster });
  const busReading = (async () => {
    for await (const event of busEvents) {
      const n = podNumber(
        `.${event.id
          .split("/")[1]
          ?.replace(/^.*-k8s-/, "")
          .replace(/-eth0$/, "")
          .replaceAll("--", "-")}/`,
      );
      if (n >= 0 && sentAt[n]! > 0) {
        onBusAt[n] = performance.now();
        toBus.push(onBusAt[n]! - sentAt[n]!);
      }
    }
  })();
  await p.bus.nc.flush();
  let unmatched = 0;
  const stream = await openServiceStream<WatchMessage>(
    p.bus.nc,
    querySubject("watch"),
    { selector: 'probe == "on"' },
    { timeoutMs: 30_000 },
  );
  let synced: () => void = () => {};
  const syncedSeen = new Promise<void>((resolve) => (synced = resolve));
  const reading = (async () => {
    for await (const message of stream) {
      const at = performance.now();
      if (message.type === "synced") synced();
      if (message.type !== "start" && message.type !== "stop") continue;
      const n = podNumber(message.endpoint.display_name);
      const sent = n >= 0 ? sentAt[n]! : 0;
      if (sent > 0) {
        latencies.push(at - sent);
        sentAt[n] = 0;
      } else unmatched++;
    }
  })();
  await syncedSeen;
  const result = await churn(
    {
      client: p.client,
      values,
      rate,
      durationMs,
      onSend: (n, _on, at) => {
        sentAt[n] = at;
      },
    },
    { next: 0, on: new Array<boolean>(endpoints).fill(false) },
  );
  // Let the last events arrive.
  const settleUntil = performance.now() + 5_000;
  while (latencies.length + unmatched < result.sent && performance.now() < settleUntil) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stream.close();
  await reading.catch(() => {});
  busEvents.unsubscribe();
  await busReading.catch(() => {});

  const sorted = latencies.sort((a, b) => a - b);
  const lost = result.sent - sorted.length;
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  const judged = !ctx.quick;
  ctx.recorder.add({
    name: `put → watch p50 (${(result.achieved).toFixed(0)} updates/s, ${sorted.length} samples)`,
    value: p50,
    unit: "ms",
    limit: { value: floor.p50, what: "etcd put + NATS echo round trip, p50" },
    target: "p50 ≤ 5 ms",
    ...(judged ? { pass: p50 <= 5 } : {}),
  });
  ctx.recorder.add({ name: "put → watch p90", value: percentile(sorted, 90), unit: "ms" });
  ctx.recorder.add({
    name: "put → watch p99",
    value: p99,
    unit: "ms",
    limit: { value: floor.p99, what: "etcd put + NATS echo round trip, p99" },
    target: "p99 ≤ 25 ms",
    ...(judged ? { pass: p99 <= 25 } : {}),
  });
  ctx.recorder.add({ name: "put → watch max", value: sorted.at(-1) ?? Number.NaN, unit: "ms" });
  const bus = toBus.sort((a, b) => a - b);
  ctx.recorder.add({ name: "of which put → on the bus (connector), p50", value: percentile(bus, 50), unit: "ms" });
  ctx.recorder.add({ name: "of which put → on the bus (connector), p99", value: percentile(bus, 99), unit: "ms" });
  if (lost > 0 || result.failed > 0) {
    ctx.recorder.note(
      `${lost} updates never showed in the watch; ${result.failed} puts failed; ${unmatched} extra events`,
    );
  }
  return undefined;
}
