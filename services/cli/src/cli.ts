/**
 * `runCli`: parses calicoq's command line (and fedview's extra commands) with commander, runs the
 * command against the backend of the chosen mode, and returns the exit code. Never exits the process.
 */
import { parseDuration } from "@fedview/model";
import { Command, CommanderError, Option } from "commander";
import { runApply } from "./commands/apply.js";
import { runDelete } from "./commands/delete.js";
import { runEndpointQuery } from "./commands/endpoints.js";
import { runEval } from "./commands/eval.js";
import { runGet } from "./commands/get.js";
import { runPolicy } from "./commands/policy.js";
import { runStatus } from "./commands/status.js";
import { runUp } from "./commands/up.js";
import { runVersion } from "./commands/version.js";
import { runWatch } from "./commands/watch.js";
import type { BackendOpener, CommandContext, GlobalOptions } from "./context.js";
import { CliError, CliUsageError, InvalidSelectorError } from "./errors.js";
import { openBackend as openModeBackend } from "./mode.js";
import type { CliIo, RunCliOptions } from "./types.js";

/** Options of `runCli` that tests and embedders use besides the I/O. */
export interface RunCliInternals {
  /** Replaces mode selection (tests hand in a backend over a prepared view). */
  openBackend?: BackendOpener;
}

const DEFAULT_SYNC_TIMEOUT = "20s";

const MODES_HELP = `
Modes:
  NATS        With --nats URL (or FEDVIEW_NATS_URL) the fedview query service answers from its live,
              merged view of every cluster: fast, nothing is read from the datastores.
  in-process  Otherwise the command does what calicoq does: it reads the local datastore named by
              -c (a CalicoAPIConfig file, default /etc/calico/calicoctl.cfg) or calicoctl's
              environment variables, reads its RemoteClusterConfigurations, lists the local cluster
              and every remote one, answers, and exits. Clusters that do not sync within
              --sync-timeout are reported on stderr (exit 1), as calicoq reports them.

Environment:
  FEDVIEW_NATS_URL                  query service bus (same as --nats), e.g. nats://127.0.0.1:4222
  FEDVIEW_NATS_CREDS_FILE, FEDVIEW_NATS_NKEY_SEED_FILE, FEDVIEW_NATS_TOKEN,
  FEDVIEW_NATS_USER / FEDVIEW_NATS_PASSWORD,
  FEDVIEW_NATS_TLS_CA_FILE, FEDVIEW_NATS_TLS_CERT_FILE, FEDVIEW_NATS_TLS_KEY_FILE
                                    bus credentials and TLS, as the fedview services read them
  DATASTORE_TYPE                    etcdv3 (default) or kubernetes
  ETCD_ENDPOINTS                    e.g. http://127.0.0.1:2379 (comma-separated)
  ETCD_USERNAME, ETCD_PASSWORD, ETCD_KEY_FILE, ETCD_CERT_FILE, ETCD_CA_CERT_FILE
  KUBECONFIG, K8S_API_ENDPOINT, K8S_KEY_FILE, K8S_CERT_FILE, K8S_CA_FILE, K8S_API_TOKEN
  (each calicoctl variable may also be written CALICO_<NAME>, which wins)
`;

const QUERY_EXAMPLES = (bin: string) => `
Examples:
  ${bin} eval "app == 'api'"                       endpoints (local and remote) a selector matches
  ${bin} eval "pcns.env == 'production'" -o yaml   namespace labels are inherited as pcns.*
  ${bin} policy prod/default.allow-api             a namespaced policy (namespace/tier.name)
  ${bin} policy allow-dns -rs                      a global policy of tier default, without selectors or rules
  ${bin} endpoint api-5f9 -o json                  policies and profiles of matching endpoints
  ${bin} host east/node-a                          every endpoint on a remote cluster's node
`;

/** Examples under each calicoq command's own help. */
const COMMAND_EXAMPLES: Record<string, (bin: string) => string> = {
  eval: (bin) => `
Examples:
  ${bin} eval "app == 'api'"
  ${bin} eval "has(projectcalico.org/namespace) && pcns.env == 'production'" -o json
  ${bin} eval "" -o yaml                    every endpoint (an empty selector is all())`,
  policy: (bin) => `
Examples:
  ${bin} policy prod/default.allow-api      NetworkPolicy allow-api in namespace prod, tier default
  ${bin} policy security.block-external -s  GlobalNetworkPolicy in tier security, without selectors
  ${bin} policy allow-dns -r -o yaml        only the endpoints it applies to, as yaml`,
  endpoint: (bin) => `
Examples:
  ${bin} endpoint api-5f9                   matched against "Workload endpoint <host>/<orch>/<ns>.<pod>/<ep>"
  ${bin} endpoint east/ -rs                 every endpoint of the remote cluster east, policies and profiles only`,
  host: (bin) => `
Examples:
  ${bin} host node-1
  ${bin} host east/node-a -o json           a node of the remote cluster east`,
};

function createProgram(ctx: CommandContext, setExit: (code: number) => void): Command {
  const bin = ctx.invokedAs;
  const program = new Command(bin)
    .description(
      bin === "calicoq"
        ? "Calico policy and endpoint queries over the local cluster and its remote clusters (fedview's calicoq)."
        : "fedview: query local and remote Calico endpoints calicoq-style, and manage RemoteClusterConfigurations.",
    )
    .option("-c, --config <file>", "CalicoAPIConfig file of the local datastore", "/etc/calico/calicoctl.cfg")
    .option("-d, --debug", "log debug information to stderr")
    .option("--nats <url>", "ask the fedview query service on this NATS server instead of running in-process")
    .addOption(
      new Option("--sync-timeout <duration>", "in-process mode: how long to wait for every cluster to sync").default(
        DEFAULT_SYNC_TIMEOUT,
      ),
    )
    .showHelpAfterError(false)
    .addHelpText("after", `${MODES_HELP}${QUERY_EXAMPLES(bin)}`)
    .exitOverride();
  program.configureOutput({
    writeOut: (s) => ctx.io.stdout.write(s),
    writeErr: (s) => ctx.io.stderr.write(s),
  });

  const globals = (cmd: Command): GlobalOptions => {
    const o = cmd.optsWithGlobals<{ config?: string; debug?: boolean; nats?: string; syncTimeout: string }>();
    const ms = parseDuration(o.syncTimeout);
    if (ms === null || ms <= 0) {
      throw new CliUsageError(`--sync-timeout: "${o.syncTimeout}" is not a duration (e.g. 20s, 1m)`);
    }
    if (o.debug) ctx.debugEnabled = true;
    return {
      ...(o.config === undefined ? {} : { config: o.config }),
      ...(o.debug === undefined ? {} : { debug: o.debug }),
      ...(o.nats === undefined ? {} : { nats: o.nats }),
      syncTimeoutMs: ms,
    };
  };
  const examples = (verb: string) => COMMAND_EXAMPLES[verb]?.(bin) ?? "";
  const output = () => new Option("-o, --output <format>", "output format: ps, json or yaml").default("ps");
  const display = (cmd: Command) =>
    cmd
      .option("-s, --hide-selectors", "do not print selectors")
      .option("-r, --hide-rule-matches", "do not print the endpoints that policy rules match")
      .addOption(output())
      .addHelpText("after", examples(cmd.name()));

  program
    .command("eval")
    .description("list the endpoints (local and remote, sorted) that a selector matches")
    .argument("<selector>", "a Calico selector, e.g. \"app == 'api' && has(projectcalico.org/namespace)\"")
    .addOption(output())
    .addHelpText("after", examples("eval"))
    .action(async (selector: string, flags, cmd: Command) =>
      setExit(await runEval(ctx, globals(cmd), selector, flags)),
    );

  display(
    program
      .command("policy")
      .description("show the local endpoints a policy applies to, and the endpoints its rule selectors match")
      .argument("<policy-name>", "<namespace>/<name> for a NetworkPolicy, <name> for a GlobalNetworkPolicy"),
  ).action(async (name: string, flags, cmd: Command) => setExit(await runPolicy(ctx, globals(cmd), name, flags)));

  display(
    program
      .command("endpoint")
      .description("show the policies, profiles and rule matches of endpoints whose name contains a substring")
      .argument("<substring>", "matched against `Workload endpoint <host>/<orch>/<ns>.<pod>/<endpoint>`"),
  ).action(async (substring: string, flags, cmd: Command) =>
    setExit(await runEndpointQuery(ctx, globals(cmd), "endpoint", substring, flags)),
  );

  display(
    program
      .command("host")
      .description("show the policies, profiles and rule matches of every endpoint on a host")
      .argument("<hostname>", "a local node, or <cluster>/<node> for a remote one"),
  ).action(async (hostname: string, flags, cmd: Command) =>
    setExit(await runEndpointQuery(ctx, globals(cmd), "host", hostname, flags)),
  );

  program
    .command("version")
    .description("print the version and build information")
    .action(() => setExit(runVersion(ctx)));

  if (bin === "fedview") registerFedviewCommands(program, ctx, globals, setExit);
  return program;
}

function registerFedviewCommands(
  program: Command,
  ctx: CommandContext,
  globals: (cmd: Command) => GlobalOptions,
  setExit: (code: number) => void,
): void {
  program
    .command("status")
    .description("show every cluster: status, error, endpoints, stale since, last sync")
    .option("-w, --wait", "wait until every cluster is in sync, showing progress")
    .option("--timeout <duration>", "with --wait: give up after this long", "2m")
    .addOption(new Option("-o, --output <format>", "output format: table, json or yaml").default("table"))
    .addHelpText(
      "after",
      `
Examples:
  fedview status --nats nats://127.0.0.1:4222
  fedview status --wait --timeout 5m      exit 0 once every cluster is InSync, 1 on timeout
  fedview status -o json`,
    )
    .action(async (flags, cmd: Command) => setExit(await runStatus(ctx, globals(cmd), flags)));

  program
    .command("up")
    .description("run the local federation stack (nats-server, etcd, every service, a demo) until Ctrl-C")
    .option("--no-demo", "no demo: federate the datastore calicoctl's environment names (else an embedded etcd)")
    .option(
      "--state-dir <dir>",
      "where all state lives, default .fedview (FEDVIEW_STATE_DIR); a restart keeps the view",
    )
    .addHelpText(
      "after",
      `
It prints where everything runs and what to try next, for example:
  export FEDVIEW_NATS_URL=nats://127.0.0.1:4222
  fedview status && fedview eval "all()"

Examples:
  fedview up                                   the demo: _local, cluster-east (etcd), cluster-west (Kubernetes)
  DATASTORE_TYPE=etcdv3 ETCD_ENDPOINTS=http://10.0.0.5:2379 fedview up --no-demo`,
    )
    .action(async (flags: { demo?: boolean; stateDir?: string }) => setExit(await runUp(ctx, flags)));

  program
    .command("watch")
    .description("stream the endpoints that start or stop matching a selector, until interrupted")
    .argument("<selector>", "a Calico selector")
    .addOption(
      new Option("-o, --output <format>", "ps (one line per change) or json (one object per line)").default("ps"),
    )
    .addHelpText(
      "after",
      `
Examples:
  fedview watch "app == 'api'"
  fedview watch "has(projectcalico.org/namespace)" -o json | jq .`,
    )
    .action(async (selector: string, flags, cmd: Command) =>
      setExit(await runWatch(ctx, globals(cmd), selector, flags)),
    );

  program
    .command("apply")
    .description("create or update RemoteClusterConfigurations from a YAML or JSON file")
    .requiredOption(
      "-f, --filename <file>",
      "file with one or more RCCs (YAML documents, a JSON object or a List); - for stdin",
    )
    .addHelpText(
      "after",
      `
Every RCC is validated first; if any is invalid, every issue is printed with its field path and nothing
is written. Otherwise each is created or updated and its result reported.

Example file:
  apiVersion: projectcalico.org/v3
  kind: RemoteClusterConfiguration
  metadata:
    name: east
  spec:
    datastoreType: etcdv3
    etcdEndpoints: https://10.0.0.1:2379
    etcdCACertFile: /etc/fedview/east-ca.pem`,
    )
    .action(async (flags, cmd: Command) => setExit(await runApply(ctx, globals(cmd), flags)));

  program
    .command("get")
    .description("list RemoteClusterConfigurations, or show one")
    .argument("<kind>", "remoteclusterconfigurations (also: remoteclusterconfiguration, rcc, rccs)")
    .argument("[name]", "one RCC")
    .addOption(new Option("-o, --output <format>", "ps (a table), yaml or json").default("ps"))
    .action(async (kind: string, name: string | undefined, flags, cmd: Command) =>
      setExit(await runGet(ctx, globals(cmd), kind, name, flags)),
    );

  program
    .command("delete")
    .description("delete a RemoteClusterConfiguration (its cluster's endpoints leave the view)")
    .argument("<kind>", "remoteclusterconfiguration (also: remoteclusterconfigurations, rcc)")
    .argument("<name>", "the RCC name")
    .action(async (kind: string, name: string, _flags, cmd: Command) =>
      setExit(await runDelete(ctx, globals(cmd), kind, name)),
    );
}

/** `calicoq … | head` closes stdout early: end quietly instead of dying of an EPIPE stack trace. */
function ignoreClosedPipe(stream: NodeJS.WriteStream): void {
  if (stream.listenerCount("error") > 0) return;
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE") throw err;
  });
}

function defaultIo(options: RunCliOptions): CliIo {
  if (options.stdout === undefined) ignoreClosedPipe(process.stdout);
  const io: CliIo = {
    stdout: options.stdout ?? process.stdout,
    stderr: options.stderr ?? process.stderr,
    env: options.env ?? process.env,
    cwd: options.cwd ?? process.cwd(),
  };
  if (options.signal !== undefined) io.signal = options.signal;
  if (options.stdin !== undefined) io.stdin = options.stdin;
  return io;
}

/**
 * SIGINT/SIGTERM → `controller.abort()`, once a long-running command asks for it (`watch`,
 * `status --wait`); one-shot commands keep Node's default, so Ctrl-C ends them at once.
 */
function interruptCapture(controller: AbortController): { capture: () => void; release: () => void } {
  const onSignal = () => controller.abort();
  let captured = false;
  return {
    capture() {
      if (captured) return;
      captured = true;
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
    },
    release() {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    },
  };
}

/**
 * Runs the CLI with `argv` (the arguments after the program name) and returns the exit code. Writes
 * only to the given streams; never calls `process.exit`.
 */
export async function runCli(argv: readonly string[], options: RunCliOptions & RunCliInternals = {}): Promise<number> {
  const io = defaultIo(options);
  let interrupt: ReturnType<typeof interruptCapture> | undefined;
  if (io.signal === undefined) {
    const controller = new AbortController();
    io.signal = controller.signal;
    interrupt = interruptCapture(controller);
  }
  const ctx: CommandContext = {
    io,
    invokedAs: options.invokedAs ?? "fedview",
    openBackend: options.openBackend ?? openModeBackend,
    debugEnabled: false,
    captureInterrupts: () => interrupt?.capture(),
    debug(message) {
      if (this.debugEnabled) io.stderr.write(`debug: ${message}\n`);
    },
  };
  let code = 0;
  const program = createProgram(ctx, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv], { from: "user" });
    return code;
  } catch (err) {
    return reportError(ctx, err);
  } finally {
    interrupt?.release();
  }
}

function reportError(ctx: CommandContext, err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander already printed usage errors and help.
    return err.code === "commander.helpDisplayed" || err.code === "commander.help" ? 0 : err.exitCode || 1;
  }
  if (err instanceof InvalidSelectorError) {
    ctx.io.stdout.write(`${err.message}\n`);
    ctx.io.stderr.write(`${err.excerpt}\n`);
    return err.exitCode;
  }
  if (err instanceof CliError) {
    (err.toStdout ? ctx.io.stdout : ctx.io.stderr).write(`${err.message}\n`);
    if (ctx.debugEnabled && err.cause instanceof Error && err.cause.stack) ctx.io.stderr.write(`${err.cause.stack}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  ctx.io.stderr.write(`${ctx.invokedAs}: ${message}\n`);
  if (ctx.debugEnabled && err instanceof Error && err.stack) ctx.io.stderr.write(`${err.stack}\n`);
  return 1;
}
