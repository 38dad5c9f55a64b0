/**
 * Scenario 4, query latency on 1M endpoints across 10 clusters: selective indexed selectors, broad
 * selectors and non-indexable ones (`contains`, `ends with`, `!=`), through the service (NATS
 * request/reply, chunked when the answer is large) and in-process (`FederatedView.eval`). Limits, same
 * run: a NATS echo round trip for the service figures, and the cheapest full scan (`!has(app)`, which
 * visits every record and matches none) for the in-process scans.
 */
import { type BusConnection, decodeResourceEvent, querySubject, requestService } from "@fedview/bus";
import { type EvalResult, FederatedView, type QueryAnswer } from "@fedview/query-service";
import { bigFleet } from "./big-fleet.js";
import { clusterName, SELECTORS } from "./fleet.js";
import { percentile, queryStatus, spawnQueryService } from "./harness.js";
import { fleetMessages } from "./load.js";
import { echoRoundTrips } from "./s2-propagation.js";
import type { ScenarioContext, ScenarioOutcome } from "./scenarios.js";

async function timed(runs: number, op: () => unknown | Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await op();
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

function overNats(nc: BusConnection, selector: string): Promise<QueryAnswer<EvalResult>> {
  return requestService<QueryAnswer<EvalResult>>(nc, querySubject("eval"), { selector }, { timeoutMs: 300_000 });
}

export async function queries(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const fleet = await bigFleet(ctx.quick, ctx.log);
  const total = fleet.clusters * fleet.perCluster;
  const runs = ctx.quick ? { selective: 20, broad: 1, scan: 2 } : { selective: 300, broad: 3, scan: 10 };

  await using query = await spawnQueryService(fleet.bus.nats.url);
  await query.ready();
  const nc = fleet.bus.nc;
  const loaded = (await queryStatus(nc)).endpoints;
  if (loaded !== total) throw new Error(`the query service is ready with ${loaded} endpoints, not ${total}`);
  const echoes = await echoRoundTrips(nc);
  const echo = { p50: percentile(echoes, 50), p99: percentile(echoes, 99) };
  const matched = new Map<string, number>();
  const service = async (cls: keyof typeof SELECTORS, n: number) => {
    const all: number[] = [];
    for (const selector of SELECTORS[cls]) {
      const answer = await overNats(nc, selector);
      matched.set(selector, answer.result.endpoints.length);
      all.push(...(await timed(n, () => overNats(nc, selector))));
    }
    return all.sort((a, b) => a - b);
  };
  const selective = await service("selective", runs.selective);
  const broad = await service("broad", runs.broad);
  const scans = await service("scan", runs.scan);
  const judged = !ctx.quick;
  const size = `${total / 1000}k endpoints`;
  ctx.recorder.add({
    name: `selective indexed, via NATS, p99 (${size})`,
    value: percentile(selective, 99),
    unit: "ms",
    limit: { value: echo.p99, what: "NATS echo round trip, p99" },
    target: "p99 ≤ 2 ms",
    ...(judged ? { pass: percentile(selective, 99) <= 2 } : {}),
  });
  ctx.recorder.add({
    name: "selective indexed, via NATS, p50",
    value: percentile(selective, 50),
    unit: "ms",
    limit: { value: echo.p50, what: "NATS echo round trip, p50" },
  });
  ctx.recorder.add({ name: "broad (⅓–1/9 of all), via NATS, p50", value: percentile(broad, 50), unit: "ms" });
  ctx.recorder.add({
    name: "non-indexable scan, via NATS, p99",
    value: percentile(scans, 99),
    unit: "ms",
    target: "full scan ≤ 100 ms",
    ...(judged ? { pass: percentile(scans, 99) <= 100 } : {}),
  });

  // In-process: the same events decoded and applied into a view in this process.
  const view = new FederatedView();
  const t0 = performance.now();
  for (let c = 0; c < fleet.clusters; c++) {
    for (const m of fleetMessages(clusterName(c), fleet.perCluster)) {
      view.applyResourceEvent(decodeResourceEvent(m.data, m.subject));
    }
  }
  const applyUs = ((performance.now() - t0) * 1000) / total;
  const floor = await timed(runs.scan, () => view.eval("!has(app)"));
  const inSelective: number[] = [];
  for (const selector of SELECTORS.selective)
    inSelective.push(...(await timed(runs.selective, () => view.eval(selector))));
  inSelective.sort((a, b) => a - b);
  const inScan: number[] = [];
  for (const selector of SELECTORS.scan) inScan.push(...(await timed(runs.scan, () => view.eval(selector))));
  inScan.sort((a, b) => a - b);
  const inBroad: number[] = [];
  for (const selector of SELECTORS.broad) inBroad.push(...(await timed(runs.broad, () => view.eval(selector))));
  inBroad.sort((a, b) => a - b);
  ctx.recorder.add({ name: "selective indexed, in-process, p99", value: percentile(inSelective, 99), unit: "ms" });
  ctx.recorder.add({
    name: "non-indexable scan, in-process, p99",
    value: percentile(inScan, 99),
    unit: "ms",
    limit: { value: percentile(floor, 50), what: "emptiest full scan !has(app), p50" },
    target: "full scan ≤ 100 ms",
    ...(judged ? { pass: percentile(inScan, 99) <= 100 } : {}),
  });
  ctx.recorder.add({ name: "broad, in-process, p50", value: percentile(inBroad, 50), unit: "ms" });
  ctx.recorder.add({ name: "event decode + apply, in-process", value: applyUs, unit: "µs/event" });
  ctx.recorder.note(`matches: ${[...matched].map(([s, n]) => `${s} → ${n}`).join("; ")}`);
  // The service over NATS and the view built here from the same events must agree.
  for (const [selector, n] of matched) {
    const here = view.eval(selector).endpoints.length;
    if (here !== n)
      throw new Error(`${selector}: the query service answered ${n} endpoints, the same view here ${here}`);
  }
  return undefined;
}
