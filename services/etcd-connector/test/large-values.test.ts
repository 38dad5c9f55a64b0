/**
 * Listing a remote whose values are large: pages over gRPC's default 4 MiB receive limit, pages
 * still refused by the configured limit (shrunk and read again at the same revision), a few huge
 * objects among small ones, and a single value that no page can carry.
 */
import type { CalicoResource } from "@fedview/model";
import type { SourceSnapshot } from "@fedview/sync";
import { type EtcdServer, startEtcd, uniqueName } from "@fedview/testkit";
import { Etcd3 } from "etcd3";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createEtcdSource, EtcdConfigError, EtcdSourceError } from "../src/index.js";
import { CalicoWriter, materialOf, wep } from "./fixtures.js";

const WEP_PREFIX = "/calico/resources/v3/projectcalico.org/workloadendpoints/";
const KiB = 1024;
const MiB = 1024 * KiB;

/** An endpoint carrying `bytes` of annotation: the shape of a real endpoint, only heavier. */
function heavy(namespace: string, pod: string, bytes: number): CalicoResource {
  const r = wep(namespace, pod, { ip: "10.0.0.1" });
  r.metadata.annotations = { ballast: "x".repeat(bytes) };
  return r;
}

/** A pino logger whose lines land in `lines`. */
function capture(lines: string[]) {
  return pino({ level: "info" }, { write: (line: string) => lines.push(line) });
}

const endpointIds = (s: SourceSnapshot, ns: string) =>
  s.resources
    .filter((r) => r.kind === "WorkloadEndpoint" && r.id.startsWith(`${ns}/`))
    .map((r) => r.id)
    .sort();

describe("etcd source with large values", () => {
  let etcd: EtcdServer;
  let writer: CalicoWriter;

  beforeAll(async () => {
    etcd = await startEtcd();
    writer = await CalicoWriter.connect(etcd);
  });
  afterEach(async () => {
    // Each test's values would change the page sizes of the next one.
    await writer.client.delete().prefix(WEP_PREFIX).exec();
  });
  afterAll(async () => {
    writer?.close();
    await etcd?.[Symbol.asyncDispose]();
  });

  it("lists endpoints whose default page is over gRPC's 4 MiB default receive limit", async () => {
    const ns = uniqueName("ns");
    const pods = Array.from({ length: 60 }, (_, i) => `pod-${i}`);
    // 60 × 100 KiB = 6 MiB: the first page (1,000 keys at most) holds all of them.
    for (const pod of pods) await writer.put(heavy(ns, pod, 100 * KiB));
    // The scenario is real: a client with gRPC's defaults cannot read that page.
    const plain = new Etcd3({ hosts: etcd.endpoints });
    try {
      await expect(
        plain.kv.range({ key: Buffer.from(WEP_PREFIX), range_end: Buffer.from(`${WEP_PREFIX}\xff`), limit: 1000 }),
      ).rejects.toThrow(/larger than max/);
    } finally {
      plain.close();
    }
    const lines: string[] = [];
    await using source = createEtcdSource({
      cluster: uniqueName("c"),
      material: await materialOf(etcd),
      logger: capture(lines),
    });
    const snapshot = await source.list(AbortSignal.timeout(30_000));
    expect(endpointIds(snapshot, ns)).toHaveLength(60);
    expect(snapshot.malformed).toEqual([]);
    // Read in one page: the raised limit, not the shrinking, carried it.
    expect(lines.join("")).not.toMatch(/exceeded the receive limit/);
    const one = snapshot.resources.find((r) => r.id.startsWith(`${ns}/`))!.resource as CalicoResource;
    expect(one.metadata.annotations?.["ballast"]).toHaveLength(100 * KiB);
  });

  it("shrinks a page refused by the receive limit and reads it again at the listing's revision", async () => {
    const ns = uniqueName("ns");
    for (let i = 0; i < 40; i++) await writer.put(heavy(ns, `pod-${i}`, 100 * KiB));
    const lines: string[] = [];
    await using source = createEtcdSource({
      cluster: uniqueName("c"),
      material: await materialOf(etcd),
      maxReceiveBytes: 1 * MiB,
      pageBytes: 1 * MiB,
      logger: capture(lines),
    });
    // Writes go on during the listing: every page must still be read at the first page's revision.
    let writing = true;
    const writes = (async () => {
      let n = 0;
      while (writing) await writer.put(heavy(ns, `late-${n++ % 5}`, 10 * KiB));
    })();
    let snapshot: SourceSnapshot;
    try {
      snapshot = await source.list(AbortSignal.timeout(30_000));
    } finally {
      writing = false;
      await writes;
    }
    const listed = endpointIds(snapshot, ns).filter((id) => id.includes("-pod--"));
    expect(listed).toHaveLength(40);
    for (const r of snapshot.resources) expect(BigInt(r.revision)).toBeLessThanOrEqual(BigInt(snapshot.revision));
    const refusals = lines.filter((l) => l.includes("exceeded the receive limit"));
    expect(refusals.length).toBeGreaterThan(0);
    expect(JSON.parse(refusals[0]!)).toMatchObject({ limitBytes: 1 * MiB });
  });

  it("lists completely when a few huge objects sit among many small ones", async () => {
    const ns = uniqueName("ns");
    for (let i = 0; i < 300; i++) await writer.put(wep(ns, `small-${i}`, { ip: `10.1.${i >> 8}.${i & 255}` }));
    // Each alone fits the 2 MiB limit, no two together do, and they sit between small ones.
    for (const i of [5, 150, 151]) await writer.put(heavy(ns, `small-${i}-huge`, Math.floor(1.2 * MiB)));
    const lines: string[] = [];
    await using source = createEtcdSource({
      cluster: uniqueName("c"),
      material: await materialOf(etcd),
      maxReceiveBytes: 2 * MiB,
      pageBytes: 1 * MiB,
      logger: capture(lines),
    });
    const snapshot = await source.list(AbortSignal.timeout(30_000));
    expect(endpointIds(snapshot, ns)).toHaveLength(303);
    expect(snapshot.malformed).toEqual([]);
    expect(lines.some((l) => l.includes("exceeded the receive limit"))).toBe(true);
    // A second listing starts from the sizes it has seen and still lists everything.
    const again = await source.list(AbortSignal.timeout(30_000));
    expect(endpointIds(again, ns)).toEqual(endpointIds(snapshot, ns));
  });

  it("fails with the key and the setting to raise when one value is over the receive limit", async () => {
    const ns = uniqueName("ns");
    await writer.put(wep(ns, "a-small"));
    await writer.put(heavy(ns, "b-huge", Math.floor(1.2 * MiB)));
    await using source = createEtcdSource({
      cluster: uniqueName("c"),
      material: await materialOf(etcd),
      maxReceiveBytes: 1 * MiB,
    });
    const failure = source.list(AbortSignal.timeout(30_000));
    await expect(failure).rejects.toThrow(EtcdSourceError);
    await expect(failure).rejects.toThrow(
      new RegExp(
        `the value of ${WEP_PREFIX}${ns}/node1-k8s-b--huge-eth0 \\(\\d+ bytes, with its framing\\) is larger than the etcd client's receive limit of ${MiB} bytes; raise FEDVIEW_ETCD_MAX_RECEIVE_BYTES`,
      ),
    );
  });

  it("refuses a page size in bytes above the receive limit, naming both settings", async () => {
    const material = await materialOf(etcd);
    expect(() => createEtcdSource({ cluster: "c1", material, pageBytes: 8 * MiB, maxReceiveBytes: 4 * MiB })).toThrow(
      EtcdConfigError,
    );
    expect(() => createEtcdSource({ cluster: "c1", material, pageBytes: 8 * MiB, maxReceiveBytes: 4 * MiB })).toThrow(
      /pageBytes \/ FEDVIEW_ETCD_PAGE_BYTES.*maxReceiveBytes \/ FEDVIEW_ETCD_MAX_RECEIVE_BYTES/,
    );
    expect(() => createEtcdSource({ cluster: "c1", material, pageSize: 0 })).toThrow(
      /pageSize must be a positive integer/,
    );
  });
});
