/** `fedview apply -f file`: create or update every RCC in a YAML or JSON file, one result line each. */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { CommandContext, GlobalOptions } from "../context.js";
import { ApplyInputError } from "../errors.js";
import { openRccClient } from "../rcc-client.js";

export interface ApplyFlags {
  filename: string;
}

async function readInput(ctx: CommandContext, file: string): Promise<string> {
  try {
    if (file === "-") {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.io.stdin ?? process.stdin) {
        chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk as Uint8Array));
      }
      return Buffer.concat(chunks).toString("utf8");
    }
    return await readFile(resolve(ctx.io.cwd, file), "utf8");
  } catch (err) {
    throw new ApplyInputError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

const VERB = { created: "created", updated: "configured", unchanged: "unchanged", failed: "failed" } as const;

export async function runApply(ctx: CommandContext, globals: GlobalOptions, flags: ApplyFlags): Promise<number> {
  const documents = await readInput(ctx, flags.filename);
  await using client = await openRccClient(globals, ctx);
  const response = await client.apply(documents);
  for (const item of response.items) {
    const line = `remoteclusterconfiguration/${item.name} ${VERB[item.result]}`;
    if (item.result === "failed") ctx.io.stderr.write(`${line}: ${item.error?.message ?? "unknown error"}\n`);
    else ctx.io.stdout.write(`${line}\n`);
  }
  return response.failed > 0 ? 1 : 0;
}
