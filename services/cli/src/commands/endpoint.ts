/** `endpoint <substring>`: policies, profiles and rule matches of every endpoint whose name contains it. */
import type { CommandContext, GlobalOptions } from "../context.js";
import { type DisplayFlags, finish, parseOutputFormat, queryOptions } from "../query-output.js";
import { renderEndpointsJson } from "../render/json.js";
import { renderEndpointsText } from "../render/ps.js";
import { renderEndpointsYaml } from "../render/yaml.js";

export async function runEndpoint(
  ctx: CommandContext,
  globals: GlobalOptions,
  substring: string,
  flags: DisplayFlags,
): Promise<number> {
  const format = parseOutputFormat(flags.output);
  const options = queryOptions(flags);
  await using backend = await ctx.openBackend({ globals, live: false }, ctx);
  const { result, problems } = await backend.endpoint(substring, options);
  const text =
    format === "json"
      ? renderEndpointsJson(result)
      : format === "yaml"
        ? renderEndpointsYaml(result)
        : renderEndpointsText(result, options);
  return finish(ctx, text, problems);
}
