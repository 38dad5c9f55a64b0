import { waitFor } from "@fedview/testkit";
import { describe, expect, it } from "vitest";
import { createBackoff } from "../src/backoff.js";
import {
  ExpiredWatchError,
  type ListResult,
  type ListWatchSource,
  startListWatch,
  type WatchEnd,
  type WatchEvent,
} from "../src/list-watch.js";

interface Item {
  name: string;
  version: string;
}

/** A scripted in-memory datastore: each list/watch call takes the next step of its script. */
function scriptedSource(steps: {
  lists: (ListResult<Item> | Error)[];
  watches: ((emit: (e: WatchEvent<Item>) => void) => WatchEnd)[];
}): ListWatchSource<Item> & { listCalls: number; watchVersions: string[] } {
  const source = {
    description: "scripted",
    listCalls: 0,
    watchVersions: [] as string[],
    keyOf: (i: Item) => i.name,
    versionOf: (i: Item) => i.version,
    async list() {
      const step = steps.lists[source.listCalls++];
      if (step === undefined) return new Promise<never>(() => {});
      if (step instanceof Error) throw step;
      return step;
    },
    async watch(version: string, onEvent: (e: WatchEvent<Item>) => void) {
      const step = steps.watches[source.watchVersions.length];
      source.watchVersions.push(version);
      let release!: (end: WatchEnd) => void;
      const done = new Promise<WatchEnd>((resolve) => {
        release = resolve;
      });
      if (step) queueMicrotask(() => release(step(onEvent)));
      return { done, stop: async () => release(undefined) };
    },
  };
  return source;
}

describe("startListWatch", () => {
  it("relists at once when the watch version expired and delivers only the difference", async () => {
    const source = scriptedSource({
      lists: [
        {
          items: [
            { name: "a", version: "1" },
            { name: "b", version: "2" },
          ],
          resourceVersion: "2",
        },
        {
          items: [
            { name: "a", version: "1" },
            { name: "c", version: "9" },
          ],
          resourceVersion: "9",
        },
      ],
      watches: [() => new ExpiredWatchError("gone")],
    });
    const delays: number[] = [];
    const seen: string[] = [];
    await using watch = startListWatch(
      source,
      {
        onUpsert: (i) => seen.push(`upsert ${i.name}@${i.version}`),
        onDelete: (key) => seen.push(`delete ${key}`),
      },
      { delay: async (ms) => void delays.push(ms) },
    );
    await waitFor(() => source.watchVersions.length === 2, { message: "the second watch" });
    expect(seen).toEqual(["upsert a@1", "upsert b@2", "upsert c@9", "delete b"]);
    expect(source.watchVersions).toEqual(["2", "9"]);
    expect(delays).toEqual([]);
    expect(watch.status()).toMatchObject({ synced: true, entries: 2, relists: 1, failures: 0 });
  });

  it("resumes a normally ended watch from the last version it saw, without relisting", async () => {
    const source = scriptedSource({
      lists: [{ items: [], resourceVersion: "5" }],
      watches: [
        (emit) => {
          emit({ type: "upsert", item: { name: "x", version: "7" }, resourceVersion: "7" });
          return undefined;
        },
      ],
    });
    await using watch = startListWatch(source, { onUpsert: () => {}, onDelete: () => {} }, { delay: async () => {} });
    await waitFor(() => source.watchVersions.length === 2, { message: "the resumed watch" });
    expect(source.watchVersions).toEqual(["5", "7"]);
    expect(source.listCalls).toBe(1);
    expect(watch.status().relists).toBe(0);
  });

  it("records each failure, backs off with growing capped delays, and recovers", async () => {
    const source = scriptedSource({
      lists: [
        new Error("refused 1"),
        new Error("refused 2"),
        new Error("refused 3"),
        { items: [], resourceVersion: "1" },
      ],
      watches: [],
    });
    const delays: number[] = [];
    const errors: string[] = [];
    await using watch = startListWatch(
      source,
      { onUpsert: () => {}, onDelete: () => {} },
      {
        delay: async (ms) => void delays.push(ms),
        backoff: createBackoff({ initialMs: 100, maxMs: 300, random: () => 0.999 }),
        onError: (e) => errors.push((e as Error).message),
        now: () => new Date("2025-01-01T00:00:00Z"),
      },
    );
    await watch.synced;
    expect(errors).toEqual(["refused 1", "refused 2", "refused 3"]);
    expect(delays).toEqual([100, 200, 300]);
    expect(watch.status()).toMatchObject({
      synced: true,
      failures: 3,
      lastFailure: { at: "2025-01-01T00:00:00.000Z", message: "refused 3" },
    });
  });
});
