/**
 * `@fedview/cli`: the `fedview` and `calicoq` commands. `runCli(argv, {invokedAs})` is what the bin
 * shims call; the renderers and the calicoctl config loader are exported for reuse and tests.
 */
export type { DatastoreConfig } from "./calico-config.js";
export {
  CALICO_ENV_VARS,
  DEFAULT_CALICO_CONFIG_FILE,
  datastoreConfigFromEnv,
  describeDatastore,
  loadDatastoreConfig,
} from "./calico-config.js";
export type { RunCliInternals } from "./cli.js";
export { runCli } from "./cli.js";
export type { BackendOpener, BackendRequest, CommandContext, GlobalOptions } from "./context.js";
export type { CliErrorOptions } from "./errors.js";
export {
  ApplyInputError,
  BackendError,
  CalicoConfigError,
  CliError,
  CliUsageError,
  InvalidRccInputError,
  InvalidSelectorError,
  RccMissingError,
  WaitTimeoutError,
} from "./errors.js";
export type { Pipeline, PipelineOptions, SourceFactories } from "./in-process.js";
export { openBackend, openInProcessBackend } from "./mode.js";
export { natsConnectOptions, openNatsBackend } from "./nats-backend.js";
export type { RccClient } from "./rcc-client.js";
export { openRccClient } from "./rcc-client.js";
export { renderEndpointsJson, renderPolicyJson } from "./render/json.js";
export { renderEndpointsText, renderEvalText, renderPolicyText, renderProblems } from "./render/ps.js";
export { renderStatusJson, renderStatusTable, renderStatusYaml } from "./render/status.js";
export { renderEndpointsYaml, renderPolicyYaml, toGoYaml } from "./render/yaml.js";
export type {
  Answer,
  BackendMode,
  CliIo,
  OutputFormat,
  OutputStream,
  QueryBackend,
  RunCliOptions,
  WatchMessage,
  WatchStream,
} from "./types.js";
export { OUTPUT_FORMATS } from "./types.js";
export type { ViewBackendOptions } from "./view-backend.js";
export { createViewBackend } from "./view-backend.js";
