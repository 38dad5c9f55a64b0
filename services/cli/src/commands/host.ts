/** `host <hostname>`: policies, profiles and rule matches of every endpoint on a host (`<cluster>/<node>` for remote). */
import type { CommandContext, GlobalOptions } from "../context.js";
import { type DisplayFlags, finish, parseOutputFormat, queryOptions } from "../query-output.js";
import { renderEndpointsJson } from "../render/json.js";
import { renderEndpointsText } from "../render/ps.js";
import { renderEndpointsYaml } from "../render/yaml.js";

export async function runHost(
  ctx: CommandContext,
  globals: GlobalOptions,
  hostname: string,
  flags: DisplayFlags,
): Promise<number> {
  const format = parseOutputFormat(flags.output);
  const options = queryOptions(flags);
  await using backend = await ctx.openBackend({ globals, live: false }, ctx);
  const { result, problems } = await backend.host(hostname, options);
  const text =
    format === "json"
      ? renderEndpointsJson(result)
      : format === "yaml"
        ? renderEndpointsYaml(result)
        : renderEndpointsText(result, options);
  return finish(ctx, text, problems);
}
