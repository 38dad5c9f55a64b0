/** `eval <selector>`: every endpoint, local and remote, the selector matches (sorted). */
import type { CommandContext, GlobalOptions } from "../context.js";
import { asSelectorError, checkSelector, finish, parseOutputFormat } from "../query-output.js";
import { renderEndpointsJson } from "../render/json.js";
import { renderEvalText } from "../render/ps.js";
import { renderEndpointsYaml } from "../render/yaml.js";

export interface EvalFlags {
  output?: string;
}

export async function runEval(
  ctx: CommandContext,
  globals: GlobalOptions,
  selector: string,
  flags: EvalFlags,
): Promise<number> {
  const format = parseOutputFormat(flags.output);
  checkSelector(selector);
  await using backend = await ctx.openBackend({ globals, live: false }, ctx);
  const { result, problems } = await backend.eval(selector).catch((err: unknown) => {
    throw asSelectorError(err);
  });
  const text =
    format === "json"
      ? renderEndpointsJson(result)
      : format === "yaml"
        ? renderEndpointsYaml(result)
        : renderEvalText(result);
  return finish(ctx, text, problems);
}
