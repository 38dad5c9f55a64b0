/**
 * Results: every figure sits next to the limit measured in the same run (these machines are noisy,
 * so the ratio is what compares across runs), with the target it is held to, and the load average
 * around the scenario. Printed as a table and written as JSON.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname } from "node:path";

/** One measured figure. */
export interface Figure {
  /** What was measured, e.g. "initial sync, 100k endpoints". */
  name: string;
  value: number;
  unit: string;
  /** The limit measured in the same run, in the same unit, and what it is. */
  limit?: { value: number; what: string };
  /** `value / limit.value` (or its inverse for rates, see `higherIsBetter`). */
  ratio?: number;
  /** For rates: more is better, so the ratio is limit / value ("how far below the limit"). */
  higherIsBetter?: boolean;
  /** The target in words, e.g. "≤ 2× limit and < 10 s". */
  target?: string;
  /** Whether the target holds; undefined when the figure has no target. */
  pass?: boolean;
}

/** The outcome of one scenario. */
export interface ScenarioResult {
  id: string;
  title: string;
  status: "ok" | "not-run" | "failed";
  /** Why it did not run, or how it failed. */
  reason?: string;
  figures: Figure[];
  notes: string[];
  durationMs: number;
  load: { start: number[]; end: number[] };
}

/** Adds the ratio to a figure with a limit. */
export function figure(f: Figure): Figure {
  if (f.limit !== undefined && f.limit.value > 0 && f.value > 0) {
    f.ratio = f.higherIsBetter ? f.limit.value / f.value : f.value / f.limit.value;
  }
  return f;
}

/** Collects a scenario's figures and notes. */
export class Recorder {
  readonly figures: Figure[] = [];
  readonly notes: string[] = [];

  add(f: Figure): Figure {
    const withRatio = figure(f);
    this.figures.push(withRatio);
    return withRatio;
  }

  note(text: string): void {
    this.notes.push(text);
  }
}

function version(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: "utf8" }).split("\n")[0]!.trim();
  } catch {
    return "unknown";
  }
}

/** The machine a run happened on. */
export function machine(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? "unknown",
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    natsServer: version("nats-server", ["--version"]),
    etcd: version("etcd", ["--version"]),
    os: `${os.type()} ${os.release()}`,
    commit: version("git", ["rev-parse", "--short", "HEAD"]),
    // Uncommitted changes in the checkout that was measured (they would not be in `commit`).
    uncommitted: version("git", ["status", "--porcelain", "--untracked-files=no"]) !== "",
  };
}

function fmt(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "–";
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${unit}`;
}

/** The table, as plain text (also pasted into BENCHMARKS.md). */
export function formatTable(results: ScenarioResult[]): string {
  const rows: string[][] = [["scenario", "figure", "value", "limit (same run)", "ratio", "target", "ok", "load"]];
  for (const r of results) {
    const load = `${r.load.start[0]?.toFixed(1)}→${r.load.end[0]?.toFixed(1)}`;
    if (r.status !== "ok") {
      rows.push([
        r.id,
        r.status === "not-run" ? `not run: ${r.reason}` : `FAILED: ${r.reason}`,
        "",
        "",
        "",
        "",
        "",
        load,
      ]);
      continue;
    }
    for (const f of r.figures) {
      rows.push([
        r.id,
        f.name,
        fmt(f.value, f.unit),
        f.limit ? `${fmt(f.limit.value, f.unit)} (${f.limit.what})` : "",
        f.ratio === undefined ? "" : `${f.ratio.toFixed(2)}×`,
        f.target ?? "",
        f.pass === undefined ? "" : f.pass ? "yes" : "NO",
        load,
      ]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(" | ")} |`;
  const out = [line(rows[0]!), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`];
  for (const row of rows.slice(1)) out.push(line(row));
  return out.join("\n");
}

/** Writes the JSON results. */
export function writeResults(path: string, results: ScenarioResult[], mode: "full" | "quick"): void {
  mkdirSync(dirname(path), { recursive: true });
  const body = { date: new Date().toISOString(), mode, machine: machine(), scenarios: results };
  writeFileSync(path, `${JSON.stringify(body, null, 2)}\n`);
}
