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

/** End-to-end and chaos suites; the chaos suite runs its bounded figures here (FEDVIEW_CHAOS_FULL=1 for the issue's full ones). */
const suites = ["e2e", "chaos"].filter((s) => existsSync(join(root, "test", s)));

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
        test: { name: s, root: join(root, "test", s), include: ["**/*.test.ts"], exclude: ["dist/**"] },
      })),
    ],
  },
});
