/**
 * The stack's command line and environment, validated with zod.
 *
 * | flag / variable | default | meaning |
 * |---|---|---|
 * | `--state-dir DIR`, `FEDVIEW_STATE_DIR` | `.fedview` | the one directory all state lives in; relative to where the command was typed (`INIT_CWD` under npm) |
 * | `--no-demo` | demo on | no demo: the local datastore is the one calicoctl's variables name (`DATASTORE_TYPE`, `ETCD_ENDPOINTS`, `KUBECONFIG`, …), else the embedded etcd |
 * | `FEDVIEW_SYNC_TIMEOUT_MS` | `90000` | how long to wait for every cluster to be InSync before saying which is not |
 * | `FEDVIEW_LOG_LEVEL` | `info` | level of `<state dir>/logs/fedview.log` |
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { StackConfigError } from "./errors.js";
import type { LocalStackOptions } from "./types.js";

/** `--help` text. */
export const STACK_USAGE = `Usage: fedview up [--no-demo] [--state-dir DIR]

Starts the local fedview stack: nats-server (JetStream) and etcd as child processes, config-service,
the etcd and Kubernetes connectors and the query service; by default also a demo federation of two
remote clusters. Runs until Ctrl-C, then stops everything. State lives in one directory (default
.fedview, or FEDVIEW_STATE_DIR): starting again with it keeps the view.

  --no-demo        no demo; the local datastore is the one calicoctl's environment names
                   (DATASTORE_TYPE, ETCD_ENDPOINTS, KUBECONFIG, ...), else the embedded etcd
  --state-dir DIR  where state lives
  -h, --help       this text
`;

/** What the command line asks for. */
export interface StackCommandLine {
  help: boolean;
  options: Pick<LocalStackOptions, "stateDir" | "demo" | "syncTimeoutMs" | "logLevel">;
}

const envSchema = z.object({
  FEDVIEW_STATE_DIR: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? ".fedview" : v.trim())),
  FEDVIEW_SYNC_TIMEOUT_MS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) {
        ctx.addIssue({ code: "custom", message: `expected milliseconds (an integer ≥ 0), got "${v}"` });
        return z.NEVER;
      }
      return n;
    }),
  FEDVIEW_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

/** Reads the command line (`argv` without node and script) and the environment. */
export function readStackCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): StackCommandLine {
  let values: { "no-demo"?: boolean; "state-dir"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        "no-demo": { type: "boolean" },
        "state-dir": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new StackConfigError(`${(err as Error).message}\n\n${STACK_USAGE}`, { cause: err });
  }
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new StackConfigError(`invalid stack configuration: ${issues.join("; ")}`);
  }
  const e = parsed.data;
  // npm and bin/up.sh run the stack from another directory; INIT_CWD is where the user typed the command.
  const typedIn = env["INIT_CWD"] ?? process.cwd();
  return {
    help: values.help === true,
    options: {
      stateDir: resolve(typedIn, values["state-dir"] ?? e.FEDVIEW_STATE_DIR),
      demo: values["no-demo"] !== true,
      logLevel: e.FEDVIEW_LOG_LEVEL,
      ...(e.FEDVIEW_SYNC_TIMEOUT_MS !== undefined ? { syncTimeoutMs: e.FEDVIEW_SYNC_TIMEOUT_MS } : {}),
    },
  };
}
