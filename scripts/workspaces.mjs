import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** Workspace directories (relative to the repository root) that hold a TypeScript project. */
export function projectDirs(root) {
  const dirs = [];
  for (const group of ["packages", "services", "test"]) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base, { withFileTypes: true })) {
      if (entry.isDirectory() && existsSync(join(base, entry.name, "tsconfig.json"))) {
        dirs.push(join(group, entry.name));
      }
    }
  }
  return dirs.sort();
}
