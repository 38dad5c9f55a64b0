/**
 * Errors of the CLI. Each knows the exit code it ends the command with; `runCli` prints the message
 * (on stdout for calicoq's own messages, where calicoq prints them, on stderr otherwise).
 */
import type { ValidationIssue } from "@fedview/model";
import type { SelectorParseError } from "@fedview/selector";

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

/** An invalid selector: calicoq's message (stdout, exit 1); the caret excerpt goes to stderr. */
export class InvalidSelectorError extends CliUsageError {
  override name = "InvalidSelectorError";
  readonly excerpt: string;
  constructor(err: SelectorParseError) {
    super(`Invalid selector: "${err.selector}". ${err.message}.`, { cause: err });
    this.excerpt = err.excerpt;
  }
}

/** Every issue of an input that was refused; nothing was written. */
export class InvalidRccInputError extends ApplyInputError {
  override name = "InvalidRccInputError";
  readonly issues: ValidationIssue[];
  constructor(issues: ValidationIssue[], options: { cause?: unknown } = {}) {
    const lines = issues.map((i) => `  ${i.path === "" ? "(document)" : i.path}: ${i.message}`);
    super(`The input holds invalid RemoteClusterConfigurations; nothing was written:\n${lines.join("\n")}`, options);
    this.issues = issues;
  }
}

/** A named RCC that does not exist (calicoctl's wording). */
export class RccMissingError extends CliError {
  override name = "RccMissingError";
  constructor(name: string, options: { cause?: unknown } = {}) {
    super(`resource does not exist: RemoteClusterConfiguration(${name})`, options);
  }
}
