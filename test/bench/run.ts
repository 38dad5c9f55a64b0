/**
 * The fedview benchmark suite: `node test/bench/dist/run.js [--quick] [--only <id>[,<id>…]] [--out <file>]`
 * (built by `tsc -b test/bench`). Runs the scenarios one after another on real servers, prints a table
 * and writes JSON (default `bench/results.json`). `--quick` uses small sizes, finishes in under two
 * minutes and asserts nothing about time: CI runs it as a smoke test. The exit code is 1 if a scenario
 * broke — it threw, its pipeline never converged (each scenario checks that the query service ends
 * with exactly what was written), or it did not finish within its generous hang limit — and every
 * failure is printed last with its reason. A scenario that cannot run says so and does not fail the run.
 */
import os from "node:os";
import { parseArgs } from "node:util";
import { disposeBigFleet } from "./big-fleet.js";
import { patience } from "./harness.js";
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
// Small sizes converge in seconds even on a loaded machine; minutes of nothing means broken.
if (quick) patience.ms = 180_000;
/** A scenario still running after this is hung: the run stops and says so (not a judgement of speed). */
const hangMs = quick ? 10 * 60_000 : 90 * 60_000;
const results: ScenarioResult[] = [];
let hung = false;
const started = performance.now();
for (const scenario of SCENARIOS) {
  if (only.size > 0 && !only.has(scenario.id)) continue;
  const recorder = new Recorder();
  const context: ScenarioContext = { quick, recorder, log: (text) => console.log(`  [${scenario.id}] ${text}`) };
  const load = { start: os.loadavg(), end: [] as number[] };
  const t0 = performance.now();
  console.log(`▶ ${scenario.id}: ${scenario.title}${quick ? " (quick)" : ""}`);
  let result: ScenarioResult;
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      hung = true;
      reject(new Error(`still running after ${hangMs / 60_000} min: hung (the run stops here)`));
    }, hangMs);
  });
  try {
    const outcome = await Promise.race([scenario.run(context), hang]);
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
  clearTimeout(timer);
  load.end = os.loadavg();
  results.push(result);
  console.log(`  ${result.status} in ${(result.durationMs / 1000).toFixed(1)} s`);
  if (hung) break;
}

if (!hung) await disposeBigFleet();
console.log();
console.log(formatTable(results));
for (const r of results) for (const n of r.notes) console.log(`- ${r.id}: ${n}`);
writeResults(values.out, results, quick ? "quick" : "full");
console.log(`\nwrote ${values.out} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
const failed = results.filter((r) => r.status === "failed");
for (const r of failed) console.error(`FAILED ${r.id}: ${r.reason}`);
if (failed.length > 0) console.error(`${failed.length} of ${results.length} scenarios failed`);
// A hung scenario still holds servers and timers: exit now (the exit hooks kill every child).
if (hung) process.exit(1);
process.exitCode = failed.length > 0 ? 1 : 0;
