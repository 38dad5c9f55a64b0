/** The scenarios, in the order they run, and what each gets to work with. */
import type { Recorder } from "./report.js";
import { initialSync } from "./s1-initial-sync.js";
import { propagation } from "./s2-propagation.js";
import { throughput } from "./s3-throughput.js";
import { queries } from "./s4-queries.js";
import { memory } from "./s5-memory.js";
import { scaleOut } from "./s6-scale-out.js";
import { coldStart } from "./s7-cold-start.js";

/** What a scenario gets. */
export interface ScenarioContext {
  /** Small sizes, short runs: a smoke test. */
  quick: boolean;
  recorder: Recorder;
  log: (text: string) => void;
}

/** A scenario returns nothing when it ran, or why it could not. */
export type ScenarioOutcome = undefined | { notRun: string };

export interface Scenario {
  id: string;
  title: string;
  run: (context: ScenarioContext) => Promise<ScenarioOutcome>;
}

export const SCENARIOS: Scenario[] = [
  { id: "initial-sync", title: "initial sync of a remote etcd into the query service", run: initialSync },
  { id: "propagation", title: "etcd put → query-service watch latency under steady churn", run: propagation },
  { id: "throughput", title: "highest churn rate held with bounded lag", run: throughput },
  { id: "queries", title: "query latency over many endpoints across 10 clusters", run: queries },
  { id: "memory", title: "memory per endpoint / watched key, growth and leaks", run: memory },
  { id: "scale-out", title: "100 clusters on one and two connectors; one and two query services", run: scaleOut },
  { id: "cold-start", title: "query-service restart to ready from JetStream alone", run: coldStart },
];
