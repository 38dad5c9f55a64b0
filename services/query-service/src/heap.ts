/**
 * One full garbage collection after the snapshot is loaded. Loading a million endpoints leaves V8's
 * old space full of dead messages and outgrown hash tables; left alone, V8 collects them lazily — in
 * the middle of the first queries (a pause of tens to hundreds of milliseconds) — and keeps the pages
 * it grew meanwhile. Collecting once, before the service answers, returns that memory and moves the
 * pause out of any query's way.
 */
import v8 from "node:v8";
import vm from "node:vm";

let collect: (() => void) | undefined;

/** Runs a full, compacting collection; returns its duration in milliseconds. */
export function collectGarbage(): number {
  if (collect === undefined) {
    const exposed = (globalThis as { gc?: () => void }).gc;
    if (exposed !== undefined) collect = exposed;
    else {
      // The flag only takes effect for contexts created after it is set: fetch `gc` from a new one.
      v8.setFlagsFromString("--expose-gc");
      collect = vm.runInNewContext("gc") as () => void;
    }
  }
  const started = performance.now();
  collect();
  return performance.now() - started;
}
