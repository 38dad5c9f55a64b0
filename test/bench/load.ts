/**
 * Putting the fleet where the scenarios need it, and the raw operations the limits are measured with:
 * etcd writes and prefix range reads through the plain etcd3 client, JetStream publishes of plain bytes,
 * bus events straight into the state stream (as connectors would publish them), and a raw replay.
 */
import {
  type BusConnection,
  encodeResourceEvent,
  type ResourceEvent,
  ResourcePublisher,
  resourceSubject,
} from "@fedview/bus";
import { etcdPrefix } from "@fedview/model";
import { DeliverPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { Etcd3 } from "etcd3";
import { busUpsert, clusterName, etcdEntry, fleetEndpoint, fleetProfiles } from "./fleet.js";

/** The fleet of one cluster as etcd key-values: 1,000 profiles, then `endpoints` endpoints. */
export function* fleetEntries(endpoints: number, version = 0): Generator<{ key: string; value: string }> {
  for (const profile of fleetProfiles()) yield etcdEntry(profile);
  for (let n = 0; n < endpoints; n++) yield etcdEntry(fleetEndpoint(n, version));
}

/** Writes entries in transactions of `batch` puts, `parallel` transactions at a time. */
export async function seedEtcd(
  client: Etcd3,
  entries: Iterable<{ key: string; value: string }>,
  batch = 100,
  parallel = 8,
): Promise<number> {
  const it = entries[Symbol.iterator]();
  let written = 0;
  const worker = async () => {
    for (;;) {
      const ops: { request_put: { key: Buffer; value: Buffer } }[] = [];
      for (let r = it.next(); !r.done; r = ops.length < batch ? it.next() : { done: true, value: undefined }) {
        ops.push({ request_put: { key: Buffer.from(r.value.key), value: Buffer.from(r.value.value) } });
        if (ops.length >= batch) break;
      }
      if (ops.length === 0) return;
      await client.kv.txn({ success: ops });
      written += ops.length;
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return written;
}

function prefixEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  end[end.length - 1]!++;
  return end;
}

/**
 * A raw, paginated range read of every key under the profile and endpoint prefixes, at one revision.
 * 4,000-key pages of the bench fleet (~3 MiB) stay under gRPC's default 4 MiB message limit; larger
 * pages need a client whose receive limit is raised.
 */
export async function rawRangeRead(
  client: Etcd3,
  pageSize = 4_000,
): Promise<{ keys: number; bytes: number; ms: number; values: Buffer[]; pageSize: number }> {
  const t0 = performance.now();
  const values: Buffer[] = [];
  let bytes = 0;
  for (const prefix of [etcdPrefix("WorkloadEndpoint"), etcdPrefix("HostEndpoint"), etcdPrefix("Profile")]) {
    let key = Buffer.from(prefix);
    const end = prefixEnd(prefix);
    let revision: string | undefined;
    for (;;) {
      const res = await client.kv.range({
        key,
        range_end: end,
        limit: pageSize,
        ...(revision === undefined ? {} : { revision }),
      });
      revision ??= res.header.revision;
      for (const kv of res.kvs) {
        values.push(kv.value);
        bytes += kv.key.length + kv.value.length;
      }
      const last = res.kvs.at(-1);
      if (!res.more || last === undefined) break;
      key = Buffer.concat([last.key, Buffer.from([0])]);
    }
  }
  return { keys: values.length, bytes, ms: performance.now() - t0, values, pageSize };
}

/**
 * Publishes `payloads` to a scratch stream (one subject each, acks pipelined 256 deep, as the bus's
 * publisher does) and removes the stream. Returns milliseconds.
 */
export async function rawJetStreamPublish(nc: BusConnection, payloads: Uint8Array[], window = 256): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const name = `BENCH_RAW_${Date.now()}`;
  await jsm.streams.add({ name, subjects: [`bench.raw.${name}.>`], max_msgs_per_subject: 1 });
  const js = jetstream(nc);
  const t0 = performance.now();
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let failure: unknown;
  for (let i = 0; i < payloads.length; i++) {
    while (inFlight >= window) await new Promise<void>((resolve) => (wake = resolve));
    if (failure !== undefined) throw failure;
    inFlight++;
    js.publish(`bench.raw.${name}.k${i}`, payloads[i]!).then(
      () => {
        inFlight--;
        wake?.();
      },
      (err: unknown) => {
        failure ??= err;
        inFlight--;
        wake?.();
      },
    );
  }
  while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
  const ms = performance.now() - t0;
  await jsm.streams.delete(name);
  if (failure !== undefined) throw failure;
  return ms;
}

/**
 * Publishes the fleet of `clusters` clusters × `perCluster` endpoints (plus each cluster's 1,000
 * profiles) straight into the state stream, as connectors would, with the bus's own publisher.
 */
export async function publishFleet(
  nc: BusConnection,
  clusters: number,
  perCluster: number,
  onProgress?: (published: number) => void,
): Promise<number> {
  const publisher = new ResourcePublisher(jetstream(nc), { maxInFlight: 512 });
  let published = 0;
  let revision = 1;
  for (let c = 0; c < clusters; c++) {
    const cluster = clusterName(c);
    for (const profile of fleetProfiles()) {
      await publisher.publish(busUpsert(cluster, profile, revision++));
      published++;
    }
    for (let n = 0; n < perCluster; n++) {
      await publisher.publish(busUpsert(cluster, fleetEndpoint(n), revision++));
      if (++published % 100_000 === 0) onProgress?.(published);
    }
  }
  await publisher.flush();
  await publisher.close();
  return published;
}

/** The encoded events of one cluster's fleet, with their subjects (for in-process decoding). */
export function* fleetMessages(
  cluster: string,
  endpoints: number,
): Generator<{ subject: string; data: Uint8Array; event: ResourceEvent }> {
  let revision = 1;
  const wrap = (event: ResourceEvent) => ({
    subject: resourceSubject(event.cluster, event.kind, event.id),
    data: encodeResourceEvent(event),
    event,
  });
  for (const profile of fleetProfiles()) yield wrap(busUpsert(cluster, profile, revision++));
  for (let n = 0; n < endpoints; n++) yield wrap(busUpsert(cluster, fleetEndpoint(n), revision++));
}

/**
 * Replays the whole state stream with an ordered consumer, touching every payload but decoding
 * nothing: the floor under any consumer's rebuild. Returns messages and milliseconds.
 */
export async function rawReplay(
  nc: BusConnection,
  stream = "FEDVIEW_STATE",
): Promise<{ messages: number; bytes: number; ms: number }> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  const total = info.state.messages;
  const t0 = performance.now();
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const messages = await consumer.consume({ max_messages: 1000 });
  let seen = 0;
  let bytes = 0;
  for await (const msg of messages) {
    bytes += msg.data.length;
    if (++seen >= total || msg.info.pending === 0) break;
  }
  messages.stop();
  await consumer.delete().catch(() => {});
  return { messages: seen, bytes, ms: performance.now() - t0 };
}
