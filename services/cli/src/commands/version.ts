/** `version`: fedview's version and build information, calicoq-style `Key: value` lines. */
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { CommandContext } from "../context.js";

/** Build information of this CLI. */
export interface VersionInfo {
  version: string;
  /** When the package's compiled output was written (absent when running from sources). */
  buildDate?: string;
  node: string;
  platform: string;
}

/** Finds the CLI's own package.json above this module (src/ in tests, dist/src/ when built). */
function packageManifest(): { version: string; path: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const path = join(dir, "package.json");
      const manifest = JSON.parse(readFileSync(path, "utf8")) as { name?: string; version?: string };
      if (manifest.name === "@fedview/cli") return { version: manifest.version ?? "unknown", path };
    } catch {
      // Not here; look one level up.
    }
    dir = dirname(dir);
  }
  return { version: "unknown", path: "" };
}

export function versionInfo(): VersionInfo {
  const { version } = packageManifest();
  const info: VersionInfo = { version, node: process.version, platform: `${process.platform}/${process.arch}` };
  const self = fileURLToPath(import.meta.url);
  // Built output (dist/…/*.js): its write time is the build date; sources (tests, tsx) have none.
  if (self.endsWith(".js")) {
    try {
      info.buildDate = statSync(self).mtime.toISOString();
    } catch {
      // No build date then.
    }
  }
  return info;
}

export function runVersion(ctx: CommandContext): number {
  const info = versionInfo();
  let out = `Version:      ${info.version}\n`;
  if (info.buildDate !== undefined) out += `Build date:   ${info.buildDate}\n`;
  out += `Node.js:      ${info.node}\nPlatform:     ${info.platform}\n`;
  ctx.io.stdout.write(out);
  return 0;
}
