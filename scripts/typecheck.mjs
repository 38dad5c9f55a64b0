#!/usr/bin/env node
// Type-checks (and builds, since every project is composite) all workspaces in dependency order.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { projectDirs } from "./workspaces.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dirs = projectDirs(root);
if (dirs.length === 0) {
  console.log("typecheck: no TypeScript projects yet");
  process.exit(0);
}
const tsc = join(root, "node_modules/typescript/bin/tsc");
const run = spawnSync(process.execPath, [tsc, "-b", ...dirs, "--pretty"], { cwd: root, stdio: "inherit" });
process.exit(run.status ?? 1);
