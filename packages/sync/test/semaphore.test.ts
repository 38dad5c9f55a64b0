import { describe, expect, it } from "vitest";
import { Semaphore } from "../src/index.js";

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("Semaphore", () => {
  it("never runs more than its limit at once and serves waiters in order", async () => {
    const sem = new Semaphore(2);
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const started: number[] = [];
    let running = 0;
    let peak = 0;
    const runs = gates.map((g, i) =>
      sem.run(async () => {
        started.push(i);
        running++;
        peak = Math.max(peak, running);
        await g.promise;
        running--;
      }),
    );
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(sem.waiting).toBe(2);
    gates[1]?.resolve();
    await runs[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.resolve();
    await Promise.all(runs);
    expect(peak).toBe(2);
    expect(sem.active).toBe(0);
  });

  it("releases the permit when the task throws", async () => {
    const sem = new Semaphore(1);
    await expect(sem.run(() => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(sem.active).toBe(0);
    await expect(sem.run(async () => 7)).resolves.toBe(7);
  });

  it("drops a waiter whose signal aborts", async () => {
    const sem = new Semaphore(1);
    const gate = deferred();
    const first = sem.run(() => gate.promise);
    const abort = new AbortController();
    const second = sem.run(async () => "ran", abort.signal);
    abort.abort(new Error("cancelled"));
    await expect(second).rejects.toThrow("cancelled");
    expect(sem.waiting).toBe(0);
    gate.resolve();
    await first;
    expect(sem.active).toBe(0);
  });

  it.each([0, -1, 1.5])("rejects limit %d", (limit) => {
    expect(() => new Semaphore(limit)).toThrow(RangeError);
  });
});
