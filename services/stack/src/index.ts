/**
 * `@fedview/stack`: the local federation stack behind the README's first command and `fedview up` —
 * nats-server (JetStream) and etcd as child processes, every fedview service in this process, an
 * optional demo federation (a TLS etcd remote and a Kubernetes remote), all state in one directory.
 */
export type { StackCommandLine } from "./config.js";
export { readStackCommandLine, STACK_USAGE } from "./config.js";
export type { DemoCluster, DemoHostEndpoint, DemoNamespace, DemoPod, DemoServiceAccount } from "./demo-data.js";
export {
  DEMO_GLOBAL_POLICIES,
  DEMO_NETWORK_POLICIES,
  DEMO_POLICY_EXAMPLES,
  EAST_CLUSTER,
  EAST_DEMO,
  LOCAL_DEMO,
  WEST_ACCESS_SECRET,
  WEST_CLUSTER,
  WEST_DEMO,
} from "./demo-data.js";
export type { StackErrorOptions } from "./errors.js";
export { StackAbortedError, StackConfigError, StackError, StateDirInUseError } from "./errors.js";
export { PREFERRED_PORTS } from "./ports.js";
export { createLocalStack, DEFAULT_SYNC_TIMEOUT_MS, runStack } from "./stack.js";
export type {
  LocalStack,
  LocalStackOptions,
  StackPorts,
  StackProcesses,
  StackUrls,
  SyncReport,
  TextSink,
} from "./types.js";
