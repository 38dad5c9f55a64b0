/**
 * `fedview watch <selector>`: the endpoints matching now (`+ …`), then every change (`+` starts matching,
 * `-` stops), until interrupted. `-o json` prints one message per line. Clusters that are not in sync are
 * reported on stderr as calicoq reports them, whenever that set changes.
 */
import type { EndpointResult } from "@fedview/query-service";
import type { CommandContext, GlobalOptions } from "../context.js";
import { CliUsageError } from "../errors.js";
import { asSelectorError, checkSelector } from "../query-output.js";
import { renderProblems } from "../render/ps.js";

export interface WatchFlags {
  output?: string;
}

function line(sign: "+" | "-", endpoint: EndpointResult): string {
  const kind = endpoint.kind === "HostEndpoint" ? "Host endpoint" : "Workload endpoint";
  return `${sign} ${kind} ${endpoint.display_name}\n`;
}

export async function runWatch(
  ctx: CommandContext,
  globals: GlobalOptions,
  selector: string,
  flags: WatchFlags,
): Promise<number> {
  const format = flags.output ?? "ps";
  if (format !== "ps" && format !== "json") {
    throw new CliUsageError(`Output Format: "${format}" is not valid. Output Format must be one of json or ps`);
  }
  checkSelector(selector);
  ctx.captureInterrupts();
  const controller = new AbortController();
  const stop = () => controller.abort();
  ctx.io.signal?.addEventListener("abort", stop, { once: true });
  if (ctx.io.signal?.aborted) stop();
  try {
    await using backend = await ctx.openBackend({ globals, live: true }, ctx);
    const stream = await backend.watch(selector, controller.signal).catch((err: unknown) => {
      throw asSelectorError(err);
    });
    if (format === "ps") ctx.io.stdout.write(`Watching endpoints matching selector ${selector}:\n`);
    for await (const message of stream) {
      if (format === "json") {
        ctx.io.stdout.write(`${JSON.stringify(message)}\n`);
        if ("problems" in message) ctx.io.stderr.write(renderProblems(message.problems));
        continue;
      }
      if ("problems" in message) ctx.io.stderr.write(renderProblems(message.problems));
      else ctx.io.stdout.write(line(message.type === "start" ? "+" : "-", message.endpoint));
    }
    return 0;
  } finally {
    ctx.io.signal?.removeEventListener("abort", stop);
  }
}
