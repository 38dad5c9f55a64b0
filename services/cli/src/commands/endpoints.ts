/**
 * `endpoint <substring>` and `host <hostname>`: the policies, profiles and rule matches of endpoints,
 * chosen by a substring of their name or by their host (`<cluster>/<node>` for a remote one). Both
 * print the same endpoint report; only the query differs.
 */
import type { CommandContext, GlobalOptions } from "../context.js";
import { type DisplayFlags, finish, parseOutputFormat, queryOptions } from "../query-output.js";
import { renderEndpointsJson } from "../render/json.js";
import { renderEndpointsText } from "../render/ps.js";
import { renderEndpointsYaml } from "../render/yaml.js";

/** Which endpoints to report: those whose name contains the argument, or those on the host it names. */
export type EndpointQuery = "endpoint" | "host";

export async function runEndpointQuery(
  ctx: CommandContext,
  globals: GlobalOptions,
  query: EndpointQuery,
  argument: string,
  flags: DisplayFlags,
): Promise<number> {
  const format = parseOutputFormat(flags.output);
  const options = queryOptions(flags);
  await using backend = await ctx.openBackend({ globals, live: false }, ctx);
  const { result, problems } =
    query === "endpoint" ? await backend.endpoint(argument, options) : await backend.host(argument, options);
  const text =
    format === "json"
      ? renderEndpointsJson(result)
      : format === "yaml"
        ? renderEndpointsYaml(result)
        : renderEndpointsText(result, options);
  return finish(ctx, text, problems);
}
