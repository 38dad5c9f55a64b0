/**
 * Types of the CLI: its I/O seam (so tests run `runCli` in-process), output formats, and the
 * `QueryBackend` both modes implement — NATS (the query service answers) and in-process (the CLI runs
 * the pipeline itself against the local datastore and its remote clusters).
 */
import type {
  ClusterProblem,
  ClusterStatusRow,
  EndpointsResult,
  EvalResult,
  PolicyResult,
  QueryOptions,
  WatchMessage,
} from "@fedview/query-service";

/** A stream the CLI writes to: `process.stdout` or a buffer in tests. */
export interface OutputStream {
  write(text: string): unknown;
  /** True when the stream is a terminal (progress displays redraw in place). */
  isTTY?: boolean;
}

/** Everything the CLI touches outside itself. */
export interface CliIo {
  stdout: OutputStream;
  stderr: OutputStream;
  /** Where `apply -f -` reads from. Default `process.stdin`. */
  stdin?: AsyncIterable<Uint8Array | string>;
  /** Environment variables (calicoctl's, `FEDVIEW_NATS_URL`). Default `process.env`. */
  env: Readonly<Record<string, string | undefined>>;
  /** Resolves relative paths (`-f`, `-c`). Default `process.cwd()`. */
  cwd: string;
  /** Aborted on SIGINT/SIGTERM by the bin shims; `watch` and `status --wait` stop on it. */
  signal?: AbortSignal;
}

/** Options of `runCli`. */
export interface RunCliOptions extends Partial<CliIo> {
  /** The command name shown in usage and help: `fedview` or `calicoq`. */
  invokedAs?: "fedview" | "calicoq";
}

/** calicoq's output formats. */
export const OUTPUT_FORMATS = ["ps", "json", "yaml"] as const;
/** `ps` (text), `json` or `yaml`. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** An answer plus the remote clusters whose data may be incomplete when it was computed. */
export interface Answer<T> {
  result: T;
  problems: ClusterProblem[];
}

/**
 * What a watch delivers (the query service's type): `start`/`stop` of an endpoint's match, `synced`
 * once the current matches were sent, and `problems` whenever the clusters not in sync change.
 */
export type { WatchMessage };

/** A live match stream (`watch`); ends when `signal` aborts or the backend fails. */
export type WatchStream = AsyncIterable<WatchMessage>;

/**
 * What a query command needs, whichever mode answers it. Methods throw `SelectorParseError` for an
 * invalid selector (in both modes: the NATS client rebuilds it from the service's error).
 */
export interface QueryBackend extends AsyncDisposable {
  /** `nats` or `in-process`, for `--debug` and status output. */
  readonly mode: BackendMode;
  eval(selector: string): Promise<Answer<EvalResult>>;
  policy(name: string, options: QueryOptions): Promise<Answer<PolicyResult | null>>;
  endpoint(substring: string, options: QueryOptions): Promise<Answer<EndpointsResult>>;
  host(hostname: string, options: QueryOptions): Promise<Answer<EndpointsResult>>;
  /** One row per cluster; in-process, `wait = false` answers before the pipeline settled (progress). */
  status(wait?: boolean): Promise<Answer<ClusterStatusRow[]>>;
  watch(selector: string, signal: AbortSignal): Promise<WatchStream>;
}

/** Which mode answers the queries. */
export type BackendMode = "nats" | "in-process";
