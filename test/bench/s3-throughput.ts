/**
 * Scenario 3, sustained throughput: churn steps of rising rate on the remote etcd; a step holds when
 * the generator reached its rate and the query service applied every update within a second's worth
 * of lag at the end of the step and caught up within 5 s. The highest step that holds is then run for
 * 60 s. Limits, same run: the raw etcd put rate of the same generator (nothing else consuming) and the
 * raw pipelined JetStream publish rate of the same bytes.
 */
import { churn, probeValues } from "./churn.js";
import { queryStatus, sleep } from "./harness.js";
import { rawJetStreamPublish } from "./load.js";
import { startPipeline } from "./pipeline.js";
import type { ScenarioContext, ScenarioOutcome } from "./scenarios.js";

interface Step {
  rate: number;
  achieved: number;
  lagAtEnd: number;
  catchUpMs: number;
  holds: boolean;
}

export async function throughput(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const endpoints = ctx.quick ? 1_000 : 20_000;
  const rates = ctx.quick ? [500, 1_000] : [500, 1_000, 2_000, 5_000, 10_000, 15_000, 20_000, 30_000];
  const stepMs = ctx.quick ? 2_000 : 10_000;
  const holdMs = ctx.quick ? 0 : 60_000;
  const values = probeValues(endpoints);
  const state = { next: 0, on: new Array<boolean>(endpoints).fill(false) };
  let raw = { achieved: 0 };
  let rawPublishRate = 0;
  // Limits first, before the cluster is applied, so that nothing else consumes the generator's puts.
  await using p = await startPipeline(endpoints, ctx.log, async ({ bus, client }) => {
    raw = await churn({ client, values, rate: 1e9, durationMs: ctx.quick ? 1_000 : 5_000 }, state);
    const payloads = Array.from({ length: ctx.quick ? 5_000 : 50_000 }, (_, i) => values.on[i % endpoints]!);
    const publishMs = await rawJetStreamPublish(bus.nc, payloads);
    rawPublishRate = (payloads.length * 1000) / publishMs;
    ctx.log(`raw etcd puts ${raw.achieved.toFixed(0)}/s, raw JetStream publishes ${rawPublishRate.toFixed(0)}/s`);
  });
  await sleep(ctx.quick ? 500 : 5_000);

  const applied = async () => (await queryStatus(p.bus.nc)).applied;
  const runStep = async (rate: number, durationMs: number): Promise<Step> => {
    const before = await applied();
    const result = await churn({ client: p.client, values, rate, durationMs }, state);
    const lagAtEnd = result.sent - ((await applied()) - before);
    const t0 = performance.now();
    let caughtUp = lagAtEnd <= 0;
    while (!caughtUp && performance.now() - t0 < 5_000) {
      await sleep(100);
      caughtUp = (await applied()) - before >= result.sent;
    }
    const step: Step = {
      rate,
      achieved: result.achieved,
      lagAtEnd,
      catchUpMs: performance.now() - t0,
      holds: result.achieved >= rate * 0.9 && lagAtEnd <= rate && caughtUp && result.failed === 0,
    };
    ctx.log(
      `${rate}/s: achieved ${result.achieved.toFixed(0)}/s, lag ${lagAtEnd} at end, caught up in ` +
        `${step.catchUpMs.toFixed(0)} ms → ${step.holds ? "holds" : "does not hold"}`,
    );
    // A step that fell behind leaves a backlog: let it drain before the next.
    if (!caughtUp) await sleep(5_000);
    return step;
  };

  let best: Step | undefined;
  for (const rate of rates) {
    if (rate > raw.achieved * 0.9) {
      ctx.recorder.note(`${rate}/s not tried: the generator's raw etcd put rate is ${raw.achieved.toFixed(0)}/s`);
      break;
    }
    const step = await runStep(rate, stepMs);
    if (!step.holds) break;
    best = step;
  }
  let held: Step | undefined;
  if (best !== undefined && holdMs > 0) held = await runStep(best.rate, holdMs);

  const figure = held ?? best;
  const value = figure?.holds ? figure.achieved : 0;
  ctx.recorder.add({
    name: holdMs > 0 ? `highest churn held ${holdMs / 1000} s with bounded lag` : "highest churn step held",
    value,
    unit: "updates/s",
    limit: { value: raw.achieved, what: "raw etcd put rate of the generator" },
    higherIsBetter: true,
    target: "≥ 20k updates/s",
    ...(ctx.quick ? {} : { pass: value >= 20_000 }),
  });
  ctx.recorder.add({
    name: "raw JetStream publish rate, same bytes",
    value: rawPublishRate,
    unit: "msgs/s",
  });
  if (figure !== undefined) {
    ctx.recorder.note(
      `at ${figure.rate}/s: lag ${figure.lagAtEnd} at the end of the step, caught up in ${figure.catchUpMs.toFixed(0)} ms`,
    );
  }
  ctx.recorder.note(
    `CPU used in total: connector ${p.connector.cpu().toFixed(0)} s, query service ${p.query.cpu().toFixed(0)} s`,
  );
  return undefined;
}
