/**
 * Errors of the CLI. Each knows the exit code it ends the command with; `runCli` prints the message
 * (on stdout for calicoq's own messages, where calicoq prints them, on stderr otherwise).
 */

/** Options accepted by every CLI error. */
export interface CliErrorOptions {
  cause?: unknown;
  /** Exit code; default 1. */
  exitCode?: number;
  /** Print on stdout (calicoq prints its usage errors there) instead of stderr. */
  toStdout?: boolean;
}

/** Base class: a command failed in a way the user should read about. */
export class CliError extends Error {
  override name = "CliError";
  readonly exitCode: number;
  readonly toStdout: boolean;
  constructor(message: string, options: CliErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
    this.toStdout = options.toStdout ?? false;
  }
}

/** An argument or flag is wrong: calicoq's exact wording, on stdout, exit 1. */
export class CliUsageError extends CliError {
  override name = "CliUsageError";
  constructor(message: string, options: Omit<CliErrorOptions, "toStdout"> = {}) {
    super(message, { ...options, toStdout: true });
  }
}

/** The calicoctl configuration (`-c` file or environment) cannot be read or is invalid. */
export class CalicoConfigError extends CliError {
  override name = "CalicoConfigError";
}

/** The local datastore, a remote cluster or the bus could not be reached or refused a request. */
export class BackendError extends CliError {
  override name = "BackendError";
}

/** A file given to `apply -f` is unreadable, not YAML/JSON, or holds invalid RCCs (nothing written). */
export class ApplyInputError extends CliError {
  override name = "ApplyInputError";
}

/** `status --wait` gave up before every cluster was in sync. */
export class WaitTimeoutError extends CliError {
  override name = "WaitTimeoutError";
}
