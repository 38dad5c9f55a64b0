/** `fedview delete remoteclusterconfiguration NAME`: the cluster's endpoints then leave the view. */
import type { CommandContext, GlobalOptions } from "../context.js";
import { openRccClient } from "../rcc-client.js";
import { checkRccKind } from "../rcc-kind.js";

export async function runDelete(
  ctx: CommandContext,
  globals: GlobalOptions,
  kind: string,
  name: string,
): Promise<number> {
  checkRccKind(kind);
  await using client = await openRccClient(globals, ctx);
  await client.delete(name);
  ctx.io.stdout.write(`remoteclusterconfiguration/${name} deleted\n`);
  return 0;
}
