import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";

/** The config service's Prometheus metrics, on their own registry so several instances can share a process. */
export interface ConfigServiceMetrics {
  readonly registry: Registry;
  /** RCCs by state: `valid`, `invalid` (ConfigIncomplete) or `pending` (not resolved yet). */
  readonly rccs: Gauge<"state">;
  /**
   * Connection-config publishes by outcome: `published`, `unchanged`, `removed`, `failed`, `fenced` (refused:
   * this replica no longer leads).
   */
  readonly publishes: Counter<"outcome">;
  /** Resolutions that found the RCC, a file or a Secret unusable. */
  readonly incomplete: Counter;
  /** Re-resolutions triggered by a watched file or Secret, by `kind` (`file`, `secret`). */
  readonly dependencyChanges: Counter<"kind">;
  /** Failures of a list-watch loop (RCCs, Secrets), by source. */
  readonly watchFailures: Counter<"source">;
  readonly watchedFiles: Gauge;
  readonly watchedSecrets: Gauge;
  /** Config RPC requests by endpoint and result code (200, 400, 404, 409, 500). */
  readonly rpcRequests: Counter<"endpoint" | "code">;
  /** 1 once the RCCs are listed and the bus is connected. */
  readonly ready: Gauge;
  /** 1 while this replica holds the leader lease and publishes; 0 on a standby. */
  readonly leader: Gauge;
  /** Leader lease changes of this replica: `acquired`, `lost`. */
  readonly leadershipChanges: Counter<"change">;
}

/** Creates the metrics on a fresh registry, with Node's default process metrics. */
export function createConfigServiceMetrics(): ConfigServiceMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "fedview_config_" });
  const registers = [registry];
  return {
    registry,
    rccs: new Gauge({
      name: "fedview_config_rccs",
      help: "RemoteClusterConfigurations by state (valid, invalid, pending)",
      labelNames: ["state"],
      registers,
    }),
    publishes: new Counter({
      name: "fedview_config_publishes_total",
      help: "Connection-config publishes by outcome (published, unchanged, removed, failed, fenced)",
      labelNames: ["outcome"],
      registers,
    }),
    incomplete: new Counter({
      name: "fedview_config_incomplete_total",
      help: "Resolutions that ended in ConfigIncomplete (invalid RCC, missing Secret, unreadable file)",
      registers,
    }),
    dependencyChanges: new Counter({
      name: "fedview_config_dependency_changes_total",
      help: "Re-resolutions triggered by a changed file or Secret",
      labelNames: ["kind"],
      registers,
    }),
    watchFailures: new Counter({
      name: "fedview_config_watch_failures_total",
      help: "Failures of list-watch loops, by source",
      labelNames: ["source"],
      registers,
    }),
    watchedFiles: new Gauge({ name: "fedview_config_watched_files", help: "Files watched for rotation", registers }),
    watchedSecrets: new Gauge({
      name: "fedview_config_watched_secrets",
      help: "Secrets watched for rotation",
      registers,
    }),
    rpcRequests: new Counter({
      name: "fedview_config_rpc_requests_total",
      help: "Config RPC requests by endpoint and result code",
      labelNames: ["endpoint", "code"],
      registers,
    }),
    ready: new Gauge({ name: "fedview_config_ready", help: "1 when the service is ready", registers }),
    leader: new Gauge({
      name: "fedview_config_leader",
      help: "1 while this replica holds the leader lease and publishes connection configs, 0 on a standby",
      registers,
    }),
    leadershipChanges: new Counter({
      name: "fedview_config_leadership_changes_total",
      help: "Leader lease changes of this replica (acquired, lost)",
      labelNames: ["change"],
      registers,
    }),
  };
}
