/**
 * `up`: the local federation stack (`@fedview/stack`) in the foreground — nats-server, etcd, every
 * service, and by default the demo of two remote clusters — until Ctrl-C stops it cleanly.
 */
import type { CommandContext } from "../context.js";

/** Flags of `fedview up`, as commander parses them (`--no-demo` sets `demo: false`). */
export interface UpFlags {
  demo?: boolean;
  stateDir?: string;
}

export async function runUp(ctx: CommandContext, flags: UpFlags): Promise<number> {
  ctx.captureInterrupts();
  // Loaded on demand: the stack pulls in every service, which no other command needs.
  const { readStackCommandLine, runStack } = await import("@fedview/stack");
  const args: string[] = [];
  if (flags.demo === false) args.push("--no-demo");
  if (flags.stateDir !== undefined) args.push("--state-dir", flags.stateDir);
  const { options } = readStackCommandLine(args, ctx.io.env);
  // runCli always provides a signal; SIGINT/SIGTERM abort it once interrupts are captured.
  const signal = ctx.io.signal ?? new AbortController().signal;
  await runStack({ ...options, env: ctx.io.env, stdout: ctx.io.stdout, signal });
  return 0;
}
