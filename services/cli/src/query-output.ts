/** What the calicoq verbs share: `-o`, `-s`/`-r`, selector checks, and the problems block. */
import type { ClusterProblem, QueryOptions } from "@fedview/query-service";
import { parseSelector, SelectorParseError } from "@fedview/selector";
import type { CommandContext } from "./context.js";
import { CliUsageError, InvalidSelectorError } from "./errors.js";
import { renderProblems, reportableProblems } from "./render/ps.js";
import { OUTPUT_FORMATS, type OutputFormat } from "./types.js";

/** Checks `-o`; calicoq's message and exit 1 for anything but ps, json and yaml. */
export function parseOutputFormat(value: string | undefined): OutputFormat {
  const format = value ?? "ps";
  if ((OUTPUT_FORMATS as readonly string[]).includes(format)) return format as OutputFormat;
  throw new CliUsageError(`Output Format: "${format}" is not valid. Output Format must be one of json, yaml, or ps`);
}

/** Parses the selector here first, so both modes refuse it identically before any I/O. */
export function checkSelector(selector: string): void {
  try {
    parseSelector(selector);
  } catch (err) {
    if (err instanceof SelectorParseError) throw new InvalidSelectorError(err);
    throw err;
  }
}

/** Rethrows a selector error from a backend as calicoq's message. */
export function asSelectorError(err: unknown): unknown {
  return err instanceof SelectorParseError ? new InvalidSelectorError(err) : err;
}

/** Writes the result text, then calicoq's problems block on stderr; exit 1 when there were problems. */
export function finish(ctx: CommandContext, text: string, problems: readonly ClusterProblem[]): number {
  if (text !== "") ctx.io.stdout.write(text);
  const block = renderProblems(problems);
  if (block === "") return 0;
  ctx.io.stderr.write(block);
  return reportableProblems(problems).length > 0 ? 1 : 0;
}

export interface DisplayFlags {
  output?: string;
  hideSelectors?: boolean;
  hideRuleMatches?: boolean;
}

/** `-s` / `-r` as query options. */
export function queryOptions(flags: DisplayFlags): QueryOptions {
  return { hideSelectors: flags.hideSelectors === true, hideRuleMatches: flags.hideRuleMatches === true };
}
