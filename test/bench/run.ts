/**
 * The fedview benchmark suite: `node test/bench/dist/run.js [--quick] [--only <id>[,<id>…]] [--out <file>]`
 * (built by `tsc -b test/bench`). Runs the scenarios one after another on real servers, prints a table
 * and writes JSON (default `bench/results.json`). `--quick` uses small sizes, finishes in under two
 * minutes and asserts nothing about time: CI runs it as a smoke test. The exit code is non-zero if a
 * scenario crashed (a scenario that cannot run says so and does not fail the run).
 */
import os from "node:os";
import { parseArgs } from "node:util";
import { disposeBigFleet } from "./big-fleet.js";
import { formatTable, Recorder, type ScenarioResult, writeResults } from "./report.js";
import { SCENARIOS, type ScenarioContext } from "./scenarios.js";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string", multiple: true },
    out: { type: "string", default: "bench/results.json" },
  },
});

const only = new Set((values.only ?? []).flatMap((v) => v.split(",")).map((v) => v.trim()));
const unknown = [...only].filter((id) => !SCENARIOS.some((s) => s.id === id));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(", ")}; known: ${SCENARIOS.map((s) => s.id).join(", ")}`);
  process.exit(2);
}

const quick = values.quick;
const results: ScenarioResult[] = [];
const started = performance.now();
for (const scenario of SCENARIOS) {
  if (only.size > 0 && !only.has(scenario.id)) continue;
  const recorder = new Recorder();
  const context: ScenarioContext = { quick, recorder, log: (text) => console.log(`  [${scenario.id}] ${text}`) };
  const load = { start: os.loadavg(), end: [] as number[] };
  const t0 = performance.now();
  console.log(`▶ ${scenario.id}: ${scenario.title}${quick ? " (quick)" : ""}`);
  let result: ScenarioResult;
  try {
    const outcome = await scenario.run(context);
    result = {
      id: scenario.id,
      title: scenario.title,
      status: outcome === undefined ? "ok" : "not-run",
      ...(outcome === undefined ? {} : { reason: outcome.notRun }),
      figures: recorder.figures,
      notes: recorder.notes,
      durationMs: performance.now() - t0,
      load,
    };
  } catch (err) {
    console.error(err);
    result = {
      id: scenario.id,
      title: scenario.title,
      status: "failed",
      reason: err instanceof Error ? err.message.split("\n")[0]! : String(err),
      figures: recorder.figures,
      notes: recorder.notes,
      durationMs: performance.now() - t0,
      load,
    };
  }
  load.end = os.loadavg();
  results.push(result);
  console.log(`  ${result.status} in ${(result.durationMs / 1000).toFixed(1)} s`);
}

await disposeBigFleet();
console.log();
console.log(formatTable(results));
for (const r of results) for (const n of r.notes) console.log(`- ${r.id}: ${n}`);
writeResults(values.out, results, quick ? "quick" : "full");
console.log(`\nwrote ${values.out} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
process.exitCode = results.some((r) => r.status === "failed") ? 1 : 0;
