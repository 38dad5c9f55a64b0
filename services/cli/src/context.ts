/**
 * What every command receives: the I/O seam, the global flags, and a way to open the backend of the
 * chosen mode (NATS when `--nats`/`FEDVIEW_NATS_URL` is set, in-process otherwise).
 */
import type { CliIo, QueryBackend } from "./types.js";

/** Global flags (calicoq's `-c`, `-d`, plus fedview's mode flags). */
export interface GlobalOptions {
  config?: string;
  debug?: boolean;
  nats?: string;
  /** In-process mode: how long to wait for every cluster to sync, ms. */
  syncTimeoutMs: number;
}

/** What a command asks of the backend factory. */
export interface BackendRequest {
  globals: GlobalOptions;
  /** Keep watching after the first sync (`watch`, `status --wait`). */
  live: boolean;
  /** Overrides `--sync-timeout` for this command (`status --wait --timeout`). */
  syncTimeoutMs?: number;
}

/** Opens the backend for a command; tests inject one over a hand-fed view. */
export type BackendOpener = (request: BackendRequest, ctx: CommandContext) => Promise<QueryBackend>;

/** The context commands run in. */
export interface CommandContext {
  io: CliIo;
  invokedAs: "fedview" | "calicoq";
  openBackend: BackendOpener;
  /** Makes SIGINT/SIGTERM abort `io.signal` instead of ending the process (long-running commands). */
  captureInterrupts(): void;
  /** Set once `-d` is parsed. */
  debugEnabled: boolean;
  /** Writes a `--debug` line to stderr. */
  debug(message: string): void;
}

/** The NATS URL of the query service, from `--nats` or `FEDVIEW_NATS_URL`; undefined for in-process. */
export function natsUrl(globals: GlobalOptions, io: CliIo): string | undefined {
  const url = globals.nats ?? io.env["FEDVIEW_NATS_URL"];
  return url === undefined || url.trim() === "" ? undefined : url.trim();
}
