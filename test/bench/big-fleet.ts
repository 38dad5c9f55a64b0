/**
 * A state stream holding a large fleet (10 clusters × 100k endpoints in a full run), published once
 * straight into JetStream as connectors would, and shared by the scenarios that only need the query
 * side (queries, memory at 1M, cold start). Disposed by `disposeBigFleet` at the end of the run.
 */
import { type Bus, startBus } from "./harness.js";
import { publishFleet } from "./load.js";

interface Shared {
  bus: Bus;
  clusters: number;
  perCluster: number;
  publishMs: number;
}

let shared: Shared | undefined;

/** Sizes of the big fleet: clusters × endpoints per cluster. */
export function bigFleetSize(quick: boolean): { clusters: number; perCluster: number } {
  return quick ? { clusters: 2, perCluster: 5_000 } : { clusters: 10, perCluster: 100_000 };
}

/** The shared bus with the big fleet published (publishing it on first use). */
export async function bigFleet(quick: boolean, log: (text: string) => void): Promise<Shared> {
  const { clusters, perCluster } = bigFleetSize(quick);
  if (shared !== undefined && shared.clusters === clusters && shared.perCluster === perCluster) return shared;
  await disposeBigFleet();
  const bus = await startBus();
  const t0 = performance.now();
  const published = await publishFleet(bus.nc, clusters, perCluster, (n) => log(`published ${n} events`));
  const publishMs = performance.now() - t0;
  log(`big fleet: ${published} events in ${(publishMs / 1000).toFixed(0)} s`);
  shared = { bus, clusters, perCluster, publishMs };
  return shared;
}

export async function disposeBigFleet(): Promise<void> {
  const s = shared;
  shared = undefined;
  await s?.bus[Symbol.asyncDispose]();
}
