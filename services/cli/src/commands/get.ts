/** `fedview get remoteclusterconfigurations [name] [-o ps|yaml|json]`: secrets shown as `[REDACTED]`. */
import type { RccObject } from "@fedview/config-service";
import { stringify } from "yaml";
import type { CommandContext, GlobalOptions } from "../context.js";
import { CliUsageError } from "../errors.js";
import { openRccClient } from "../rcc-client.js";
import { checkRccKind } from "../rcc-kind.js";

export interface GetFlags {
  output?: string;
}

function target(spec: Record<string, unknown>): string {
  const secret = spec["clusterAccessSecret"] as { namespace?: string; name?: string } | undefined;
  if (secret !== undefined) return `secret ${secret.namespace ?? ""}/${secret.name ?? ""}`;
  for (const key of ["etcdEndpoints", "k8sAPIEndpoint", "kubeconfig"]) {
    if (typeof spec[key] === "string" && spec[key] !== "") return spec[key] as string;
  }
  return "-";
}

/** A calicoctl-style table: NAME, DATASTORE, CONNECTS TO. */
export function renderRccTable(items: readonly RccObject[]): string {
  const rows = [["NAME", "DATASTORE", "CONNECTS TO"]];
  for (const item of items) {
    const spec = item.spec;
    const datastore =
      typeof spec["datastoreType"] === "string"
        ? spec["datastoreType"]
        : spec["clusterAccessSecret"]
          ? "(secret)"
          : "-";
    rows.push([item.metadata.name, datastore, target(spec)]);
  }
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => `${r[0]!.padEnd(widths[0]!)}   ${r[1]!.padEnd(widths[1]!)}   ${r[2]}`.trimEnd())
    .map((l) => `${l}\n`)
    .join("");
}

export async function runGet(
  ctx: CommandContext,
  globals: GlobalOptions,
  kind: string,
  name: string | undefined,
  flags: GetFlags,
): Promise<number> {
  checkRccKind(kind);
  const format = flags.output ?? "ps";
  if (!["ps", "yaml", "json"].includes(format)) {
    throw new CliUsageError(`Output Format: "${format}" is not valid. Output Format must be one of json, yaml, or ps`);
  }
  await using client = await openRccClient(globals, ctx);
  const value = name === undefined ? await client.list() : await client.get(name);
  if (format === "json") ctx.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else if (format === "yaml") ctx.io.stdout.write(stringify(value, { lineWidth: 0 }));
  else ctx.io.stdout.write(renderRccTable("items" in value ? value.items : [value]));
  return 0;
}
