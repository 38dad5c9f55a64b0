/** What every handler shares: the context it runs in, answer wrapping, timing, error mapping. */
import { InvalidRequestError } from "@fedview/bus";
import { SelectorParseError, validateSelector } from "@fedview/selector";
import { z } from "zod";
import type { QueryMetrics, QueryOutcome, QueryVerb } from "../metrics.js";
import type { ClusterProblem, QueryAnswer, QueryServiceStatus } from "../types.js";
import type { FederatedView } from "../view.js";

/** What handlers get from the service. */
export interface HandlerContext {
  view: FederatedView;
  metrics: QueryMetrics;
  watchHeartbeatMs: number;
  /** The service's own status, for the `status` verb. */
  serviceStatus(): QueryServiceStatus;
  /** Registers a listener told whenever `view.problems()` changes; returns its remover. */
  onProblemsChange(listener: (problems: ClusterProblem[]) => void): () => void;
}

/** Wraps a result with the clusters that were not `InSync` when it was computed. */
export function answer<T>(view: FederatedView, result: T): QueryAnswer<T> {
  return { result, problems: view.problems() };
}

/** `-s` / `-r` as request fields. */
export const queryOptionsShape = {
  hideSelectors: z.boolean().optional(),
  hideRuleMatches: z.boolean().optional(),
};

/** A selector field, checked with Calico's parser so that a bad one is refused before anything runs. */
export const selectorField = z.string().superRefine((text, ctx) => {
  try {
    validateSelector(text);
  } catch (err) {
    if (!(err instanceof SelectorParseError)) throw err;
    ctx.addIssue({ code: "custom", message: `Invalid selector: "${text}". ${err.message}.` });
  }
});

/** Maps the engine's errors to the bus's typed errors (400 for a bad selector). */
export function toBusError(err: unknown): unknown {
  if (err instanceof SelectorParseError) {
    return new InvalidRequestError(
      `Invalid selector: "${err.selector}". ${err.message}.`,
      [{ path: "selector", message: err.message }],
      { cause: err, details: { selector: err.selector, position: err.position, reason: err.message } },
    );
  }
  return err;
}

function outcomeOf(err: unknown): QueryOutcome {
  return err instanceof InvalidRequestError || err instanceof SelectorParseError ? "invalid" : "error";
}

/** Runs a handler, recording its count, outcome and latency under `verb`. */
export function instrumented<Req, Res>(
  verb: QueryVerb,
  metrics: QueryMetrics,
  handler: (request: Req) => Res,
  outcome: (result: Res) => QueryOutcome = () => "ok",
): (request: Req) => Res {
  return (request) => {
    const started = performance.now();
    try {
      const result = handler(request);
      metrics.observeQuery(verb, outcome(result), (performance.now() - started) / 1000);
      return result;
    } catch (err) {
      metrics.observeQuery(verb, outcomeOf(err), (performance.now() - started) / 1000);
      throw toBusError(err);
    }
  };
}
