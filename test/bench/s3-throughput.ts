import type { ScenarioContext, ScenarioOutcome } from "./scenarios.js";

export async function throughput(_ctx: ScenarioContext): Promise<ScenarioOutcome> {
  return { notRun: "not written yet" };
}
