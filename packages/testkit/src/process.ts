import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { TestServerError } from "./errors.js";
import { TIMEOUTS } from "./wait.js";

/** Every child still running, so that none outlives the test process even when a test forgets to dispose. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of running) {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
  });
}

export interface ProcessSpec {
  /** Shown in errors, e.g. `nats-server`. */
  name: string;
  command: string;
  args: readonly string[];
  /** stdout and stderr are appended here, for the error message when the process dies. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  /** Resolves once the process answers; polled until `TIMEOUTS.serverStart`. */
  ready: () => Promise<boolean>;
  /** The Debian package to install when `command` is not found. */
  aptPackage: string;
}

/**
 * A server binary run as a child process: started, waited for, stopped by PID, restarted with the same
 * arguments (so the same ports and data directory), or killed with SIGKILL for fault tests.
 */
export class ManagedProcess {
  readonly spec: ProcessSpec;
  #child: ChildProcess | undefined;

  constructor(spec: ProcessSpec) {
    this.spec = spec;
  }

  /** The PID of the running process, if any. */
  get pid(): number | undefined {
    return this.#child?.exitCode === null ? this.#child.pid : undefined;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Spawns the process and waits until `ready()` holds; fails with the log tail when it dies first. */
  async start(): Promise<void> {
    if (this.running) return;
    installExitHook();
    const { spec } = this;
    const log = openSync(spec.logFile, "a");
    let spawnError: Error | undefined;
    const child = spawn(spec.command, spec.args, {
      stdio: ["ignore", log, log],
      env: spec.env ?? process.env,
    });
    closeSync(log);
    child.once("error", (err) => {
      spawnError = err;
    });
    running.add(child);
    child.once("exit", () => running.delete(child));
    this.#child = child;

    const deadline = Date.now() + TIMEOUTS.serverStart;
    for (;;) {
      if (spawnError !== undefined) {
        const missing = (spawnError as NodeJS.ErrnoException).code === "ENOENT";
        throw new TestServerError(
          missing
            ? `${spec.command} is not installed: run "apt-get install -y ${spec.aptPackage}" (or "bash scripts/setup.sh")`
            : `could not start ${spec.name}: ${spawnError.message}`,
          { cause: spawnError },
        );
      }
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new TestServerError(
          `${spec.name} exited (${child.exitCode ?? child.signalCode}) before answering; its log ends:\n${this.logTail()}`,
        );
      }
      if (await spec.ready().catch(() => false)) return;
      if (Date.now() > deadline) {
        await this.kill();
        throw new TestServerError(
          `${spec.name} did not answer within ${TIMEOUTS.serverStart} ms; its log ends:\n${this.logTail()}`,
        );
      }
      await sleep(50);
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `TIMEOUTS.serverStop`. */
  async stop(): Promise<void> {
    await this.#signal("SIGTERM", TIMEOUTS.serverStop);
  }

  /** SIGKILL: the crash a fault test wants. */
  async kill(): Promise<void> {
    await this.#signal("SIGKILL", TIMEOUTS.serverStop);
  }

  /** Stops and starts again with the same arguments: same ports, same data directory. */
  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /** The last lines of the process log, for error messages. */
  logTail(lines = 30): string {
    try {
      return readFileSync(this.spec.logFile, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  async #signal(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = this.#child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    // The grace timer is cancelled as soon as the process exits, so it never keeps the caller alive.
    const grace = new AbortController();
    const timedOut = await Promise.race([
      exited.then(() => false),
      sleep(graceMs, undefined, { signal: grace.signal }).then(
        () => true,
        () => false,
      ),
    ]);
    grace.abort();
    if (timedOut) {
      child.kill("SIGKILL");
      await exited;
    }
  }
}
