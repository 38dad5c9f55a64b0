/**
 * Scenario 7, cold start: a query service (re)starts on a state stream holding the big fleet (1M
 * endpoints over 10 clusters in a full run) with no connector and no cluster reachable; measured from
 * spawning the process to `/readyz` answering 200, then the first `eval` over NATS. Limit, same run: a
 * raw ordered-consumer replay of the whole stream that decodes nothing.
 */
import { querySubject, requestService } from "@fedview/bus";
import { bigFleet } from "./big-fleet.js";
import { queryStatus, spawnQueryService } from "./harness.js";
import { rawReplay } from "./load.js";
import type { ScenarioContext, ScenarioOutcome } from "./scenarios.js";

export async function coldStart(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const fleet = await bigFleet(ctx.quick, ctx.log);
  const total = fleet.clusters * fleet.perCluster;
  const replay = await rawReplay(fleet.bus.nc);
  ctx.log(
    `raw replay: ${replay.messages} messages, ${(replay.bytes / 2 ** 20).toFixed(0)} MiB in ${replay.ms.toFixed(0)} ms`,
  );
  await using query = await spawnQueryService(fleet.bus.nats.url);
  const readyMs = await query.ready();
  const t0 = performance.now();
  await requestService(fleet.bus.nc, querySubject("eval"), { selector: 'pod-template-hash == "h12345"' });
  const firstQueryMs = performance.now() - t0;
  const loaded = (await queryStatus(fleet.bus.nc)).endpoints;
  if (loaded !== total) throw new Error(`the query service is ready with ${loaded} endpoints, not ${total}`);
  ctx.recorder.add({
    name: `spawn → ready with ${total / 1000}k endpoints held, no cluster contacted`,
    value: readyMs,
    unit: "ms",
    limit: { value: replay.ms, what: "raw replay of the stream, no decoding" },
  });
  ctx.recorder.add({ name: "then the first eval over NATS", value: firstQueryMs, unit: "ms" });
  ctx.recorder.add({
    name: "query-service CPU to load",
    value: (query.cpu() * 1e6) / replay.messages,
    unit: "µs/message",
  });
  return undefined;
}
