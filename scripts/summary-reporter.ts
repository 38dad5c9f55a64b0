import { writeFileSync } from "node:fs";
import type { Reporter, TestModule } from "vitest/node";

/**
 * Prints the plain closing line CI reads: `N passed, M failed` (with `, K skipped` when any were).
 * The test orchestrator (scripts/test.mjs) adds the typecheck and lint results to these counts,
 * so when vitest runs under it the line goes to a file named by FEDVIEW_TEST_SUMMARY instead.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const mod of testModules) {
      let moduleTests = 0;
      for (const test of mod.children.allTests()) {
        moduleTests++;
        const state = test.result().state;
        if (state === "passed") passed++;
        else if (state === "failed") failed++;
        else skipped++;
      }
      // A test file that fails to load (syntax error, import error) has no tests but must count as a failure.
      if (moduleTests === 0 && mod.state() === "failed") failed++;
    }
    failed += unhandledErrors.length;
    const summary = { passed, failed, skipped };
    const target = process.env.FEDVIEW_TEST_SUMMARY;
    if (target) {
      // Written synchronously: the orchestrator reads it as soon as vitest exits.
      writeFileSync(target, JSON.stringify(summary));
      return;
    }
    const tail = skipped > 0 ? `, ${skipped} skipped` : "";
    process.stdout.write(`\n${passed} passed, ${failed} failed${tail}\n`);
  }
}
