/**
 * How hard the chaos suite pushes. CI runs the bounded figures (the whole project in about three
 * minutes on two cores); `FEDVIEW_CHAOS_FULL=1` runs the figures issue 11 names.
 */

/** True when `FEDVIEW_CHAOS_FULL` asks for the issue's full figures. */
export const FULL = /^(1|true|yes|on)$/i.test(process.env["FEDVIEW_CHAOS_FULL"] ?? "");

/** Every knob of the suite, bounded or full. */
export interface ChaosFigures {
  /** Inputs per fuzz target (the selector parser gets `selectorInputs`). */
  fuzzInputs: number;
  /** Inputs given to the selector parser. */
  selectorInputs: number;
  /** kill -9 rounds per service. */
  killRounds: number;
  /** Remote etcd updates made during the kill rounds, all rounds together. */
  churnUpdates: number;
  /** How long the remote etcd stays down in the outage scenario, ms. */
  outageMs: number;
  /** Resources in the remote clusters at the start of a scenario. */
  initialResources: number;
}

/**
 * Small enough for the whole project to run in CI beside the rest of the tests: every service is
 * killed once (50 updates of churn around each kill, as before), the remotes start from 100
 * endpoints each. The issue's bounds are unchanged.
 */
const BOUNDED: ChaosFigures = {
  fuzzInputs: 10_000,
  selectorInputs: 25_000,
  killRounds: 1,
  churnUpdates: 200,
  outageMs: 6_000,
  initialResources: 100,
};

const ISSUE: ChaosFigures = {
  fuzzInputs: 200_000,
  selectorInputs: 1_000_000,
  killRounds: 20,
  churnUpdates: 10_000,
  outageMs: 30_000,
  initialResources: 1_000,
};

/** The figures of this run. */
export const FIGURES: ChaosFigures = FULL ? ISSUE : BOUNDED;

/**
 * The convergence bounds issue 11 sets. They are the timeouts of the `waitFor`s that check them, and
 * the same in both modes: a bounded run is smaller, not more lenient.
 */
export const BOUNDS = {
  /** After a restarted service is back, the view equals the truth within this. */
  convergeAfterRestartMs: 10_000,
  /** After a remote etcd stops, its status says `ConnectionFailed` within this. */
  connectionFailedMs: 15_000,
} as const;

/** Test timeout of a scenario that runs `rounds` rounds of `perRoundMs` plus setup. */
export function scenarioTimeout(perRoundMs: number, rounds = 1, setupMs = 60_000): number {
  return setupMs + perRoundMs * rounds;
}

/** Test timeout of a fuzz target given `inputs`: generous per input (2 ms), for loaded machines. */
export function fuzzTimeout(inputs: number = FIGURES.fuzzInputs): number {
  return 30_000 + inputs * 2;
}
