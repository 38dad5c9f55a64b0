/**
 * `fedview status [--wait] [-o table|json|yaml]`: one row per cluster. `--wait` polls until every known
 * cluster is InSync, with a progress line redrawn in place on a terminal (plain lines otherwise, one per
 * change), and fails with a clear message when `--timeout` passes first.
 */
import { parseDuration } from "@fedview/model";
import type { ClusterStatusRow } from "@fedview/query-service";
import type { CommandContext, GlobalOptions } from "../context.js";
import { CliUsageError, WaitTimeoutError } from "../errors.js";
import {
  renderProgress,
  renderStatusJson,
  renderStatusTable,
  renderStatusYaml,
  syncProgress,
} from "../render/status.js";
import type { QueryBackend } from "../types.js";

export interface StatusFlags {
  wait?: boolean;
  timeout?: string;
  output?: string;
}

const POLL_MS = 250;

function render(rows: ClusterStatusRow[], format: string): string {
  if (format === "json") return renderStatusJson(rows);
  if (format === "yaml") return renderStatusYaml(rows);
  return renderStatusTable(rows);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

async function waitForSync(ctx: CommandContext, backend: QueryBackend, timeoutMs: number): Promise<ClusterStatusRow[]> {
  ctx.captureInterrupts();
  const started = Date.now();
  const tty = ctx.io.stderr.isTTY === true;
  let lastLine = "";
  for (;;) {
    const { result: rows } = await backend.status(false);
    const progress = syncProgress(rows);
    const elapsed = Date.now() - started;
    const done = progress.total > 0 && progress.inSync === progress.total;
    if (tty) {
      ctx.io.stderr.write(`\r\u001b[2K${renderProgress(progress, elapsed)}`);
    } else {
      // Plain output: a line only when something other than the clock changed.
      const line = renderProgress(progress, 0).replace(/, [0-9.]+s elapsed/, "");
      if (line !== lastLine) ctx.io.stderr.write(`${renderProgress(progress, elapsed)}\n`);
      lastLine = line;
    }
    if (done) {
      if (tty) ctx.io.stderr.write("\n");
      return rows;
    }
    if (elapsed >= timeoutMs || ctx.io.signal?.aborted) {
      if (tty) ctx.io.stderr.write("\n");
      ctx.io.stdout.write(renderStatusTable(rows));
      const reason = ctx.io.signal?.aborted ? "interrupted" : `timed out after ${(timeoutMs / 1000).toFixed(0)}s`;
      const pending =
        progress.total === 0 ? "no cluster reported a status yet" : `not in sync: ${progress.pending.join(", ")}`;
      throw new WaitTimeoutError(`${reason} waiting for every cluster to sync; ${pending}`);
    }
    await sleep(Math.min(POLL_MS, timeoutMs - elapsed), ctx.io.signal);
  }
}

export async function runStatus(ctx: CommandContext, globals: GlobalOptions, flags: StatusFlags): Promise<number> {
  const format = flags.output ?? "table";
  if (!["table", "ps", "json", "yaml"].includes(format)) {
    throw new CliUsageError(
      `Output Format: "${format}" is not valid. Output Format must be one of table, json, or yaml`,
    );
  }
  const timeoutMs = parseDuration(flags.timeout ?? "2m");
  if (timeoutMs === null || timeoutMs <= 0)
    throw new CliUsageError(`--timeout: "${flags.timeout}" is not a duration (e.g. 90s, 5m)`);
  await using backend = await ctx.openBackend(
    flags.wait ? { globals, live: true, syncTimeoutMs: timeoutMs } : { globals, live: false },
    ctx,
  );
  const rows = flags.wait ? await waitForSync(ctx, backend, timeoutMs) : (await backend.status()).result;
  ctx.io.stdout.write(render(rows, format));
  return 0;
}
