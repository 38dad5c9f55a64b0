import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { defineConfig } from "vitest/config";

/**
 * One vitest project per workspace (packages/*, services/*) plus the suites under test/.
 * Workspace packages are aliased to their sources so tests never need a prior build.
 */
const root = import.meta.dirname;

interface Workspace {
  dir: string;
  name: string;
  short: string;
}

function workspaces(): Workspace[] {
  const found: Workspace[] = [];
  for (const group of ["packages", "services"]) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const manifest = join(base, entry.name, "package.json");
      if (!existsSync(manifest)) continue;
      const { name } = JSON.parse(readFileSync(manifest, "utf8")) as { name: string };
      found.push({ dir: join(group, entry.name), name, short: entry.name });
    }
  }
  return found;
}

const all = workspaces();
const alias = Object.fromEntries(
  all
    .filter((w) => existsSync(join(root, w.dir, "src/index.ts")))
    .map((w) => [w.name, resolve(root, w.dir, "src/index.ts")]),
);

const suites = ["e2e", "chaos"].filter((s) => existsSync(join(root, "test", s)));

/**
 * The chaos suite's fuzzing runs with every `npm test`; its fault, security and bad-input scenarios
 * (minutes of churn against real servers each) run with `npm run test:chaos` (FEDVIEW_CHAOS=1),
 * because together they do not fit CI's 15-minute budget on two cores.
 */
function suiteInclude(suite: string): string[] {
  if (suite === "chaos" && process.env.FEDVIEW_CHAOS !== "1") return ["fuzz/**/*.test.ts"];
  return ["**/*.test.ts"];
}

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: ["default", "./scripts/summary-reporter.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    pool: "forks",
    projects: [
      ...all.map((w) => ({
        extends: true as const,
        test: { name: w.short, root: join(root, w.dir), include: ["test/**/*.test.ts"] },
      })),
      ...suites.map((s) => ({
        extends: true as const,
        test: { name: s, root: join(root, "test", s), include: suiteInclude(s), exclude: ["dist/**"] },
      })),
    ],
  },
});
