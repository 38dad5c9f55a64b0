import type { ScenarioContext, ScenarioOutcome } from "./scenarios.js";

export async function memory(_ctx: ScenarioContext): Promise<ScenarioOutcome> {
  return { notRun: "not written yet" };
}
