/** Options every stack error takes. */
export interface StackErrorOptions {
  cause?: unknown;
}

/** The stack could not start or stop; the message says what to do. */
export class StackError extends Error {
  override name = "StackError";
  constructor(message: string, options: StackErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}

/** The command line or the environment asks for something the stack cannot do. */
export class StackConfigError extends StackError {
  override name = "StackConfigError";
}

/** Another stack is running on the same state directory. */
export class StateDirInUseError extends StackError {
  override name = "StateDirInUseError";
}

/** The start was abandoned because its signal aborted; everything started so far was stopped. */
export class StackAbortedError extends StackError {
  override name = "StackAbortedError";
}
