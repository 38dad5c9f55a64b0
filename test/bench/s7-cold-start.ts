import type { ScenarioContext, ScenarioOutcome } from "./scenarios.js";

export async function coldStart(_ctx: ScenarioContext): Promise<ScenarioOutcome> {
  return { notRun: "not written yet" };
}
