/** `policy <ns/name | name>`: the local endpoints a policy applies to and those its rules match. */
import type { CommandContext, GlobalOptions } from "../context.js";
import { CliUsageError } from "../errors.js";
import { type DisplayFlags, finish, parseOutputFormat, queryOptions } from "../query-output.js";
import { renderPolicyJson } from "../render/json.js";
import { renderPolicyText } from "../render/ps.js";
import { renderPolicyYaml } from "../render/yaml.js";

export async function runPolicy(
  ctx: CommandContext,
  globals: GlobalOptions,
  name: string,
  flags: DisplayFlags,
): Promise<number> {
  const format = parseOutputFormat(flags.output);
  if (name.trim() === "") throw new CliUsageError("The policy-name must be specified.");
  const options = queryOptions(flags);
  await using backend = await ctx.openBackend({ globals, live: false }, ctx);
  const { result, problems } = await backend.policy(name, options);
  const text =
    format === "json"
      ? renderPolicyJson(result)
      : format === "yaml"
        ? renderPolicyYaml(result)
        : renderPolicyText(result, options);
  return finish(ctx, text, problems);
}
