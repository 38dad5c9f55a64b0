#!/usr/bin/env node
// The README's test command: typecheck, lint, every vitest project on real servers, then the
// benchmark suite's quick mode as a smoke test (no time judged; skipped when vitest arguments
// narrow the run, or with FEDVIEW_BENCH_SMOKE=0).
// Ends with the plain line `N passed, M failed` (typecheck, lint and the benchmark smoke count as
// one check each) and exits non-zero on any failure.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1", FORCE_COLOR: process.env.CI ? "0" : "1" };
const bin = (pkg, file) => join(root, "node_modules", pkg, file);

function step(title, args) {
  console.log(`\n== ${title}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit", env });
  const ok = run.status === 0;
  console.log(`== ${title}: ${ok ? "ok" : "FAILED"} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return ok;
}

let passed = 0;
let failed = 0;
let skipped = 0;
for (const [title, args] of [
  ["typecheck", [join(root, "scripts/typecheck.mjs")]],
  ["lint", [bin("@biomejs/biome", "bin/biome"), "ci", "."]],
]) {
  if (step(title, args)) passed++;
  else failed++;
}

const scratch = mkdtempSync(join(tmpdir(), "fedview-test-"));
const summaryFile = join(scratch, "summary.json");
env.FEDVIEW_TEST_SUMMARY = summaryFile;
const vitestOk = step("tests", [bin("vitest", "vitest.mjs"), "run", ...process.argv.slice(2)]);
try {
  const s = JSON.parse(readFileSync(summaryFile, "utf8"));
  passed += s.passed;
  failed += s.failed;
  skipped += s.skipped;
} catch {
  // vitest died before reporting: count the run itself as a failure.
  failed++;
}
if (!vitestOk && failed === 0) failed++;

// The typecheck step built test/bench (every workspace project is composite), so dist is current.
const narrowed = process.argv.length > 2;
if (!narrowed && process.env.FEDVIEW_BENCH_SMOKE !== "0") {
  const out = join(scratch, "bench-results.json");
  if (
    step("benchmark smoke (--quick, no time judged)", [join(root, "test/bench/dist/run.js"), "--quick", "--out", out])
  ) {
    passed++;
  } else failed++;
}
rmSync(scratch, { recursive: true, force: true });

console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 ? 1 : 0);
