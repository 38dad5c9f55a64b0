/**
 * JetStream topology: the durable state stream and the KV buckets, created idempotently with settings
 * from config. Every service may call {@link ensureBusTopology} at start; running it again (or from many
 * replicas at once) is harmless, and a changed setting (e.g. replicas) is applied by updating in place.
 * Operator-tunable settings (replicas, storage, byte limit, history, lease TTL) are applied only when
 * given: a service that leaves one out keeps what the stream has, so it never undoes an operator's choice.
 */
import type { JetStreamManager, JetStreamOptions, StreamConfig, StreamInfo } from "@nats-io/jetstream";
import { DiscardPolicy, JetStreamApiError, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { nanos } from "@nats-io/nats-core";
import { z } from "zod";
import { toIssues } from "./codecs.js";
import { BusConfigError, TopologyError } from "./errors.js";
import {
  DEFAULT_CONNECTIONS_BUCKET,
  DEFAULT_LEASES_BUCKET,
  DEFAULT_STATE_STREAM,
  kvStreamName,
  RESOURCE_SUBJECTS,
  STATUS_SUBJECTS,
} from "./subjects.js";

/** Default bucket-level TTL of leases: a dead replica's clusters move within this many milliseconds. */
export const DEFAULT_LEASE_TTL_MS = 6000;

/** Settings of the state stream and buckets, all from service config. */
export interface BusTopologyOptions {
  /** State stream name; default `FEDVIEW_STATE`. */
  stateStream?: string;
  /** Connection-config bucket; default `fedview-connections`. */
  connectionsBucket?: string;
  /** Lease bucket; default `fedview-leases`. */
  leasesBucket?: string;
  /**
   * Replicas of the stream and buckets (1, 3 or 5; at most the cluster size). When omitted, a new stream
   * gets 1 and an existing one keeps its count.
   */
  replicas?: number;
  /** Storage of the state stream and the buckets; when omitted, `file` for a new one, else kept. */
  storage?: "file" | "memory";
  /** Byte limit of the state stream; when omitted, unlimited (-1) for a new stream, else kept. */
  stateMaxBytes?: number;
  /** Lease bucket TTL in milliseconds (nats 2.9 has no per-key TTL); when omitted, 6000 for a new bucket, else kept. */
  leaseTtlMs?: number;
  /** Revisions kept per connection key; when omitted, 1 for a new bucket, else kept. */
  connectionsHistory?: number;
  /** JetStream domain / API prefix, if the account uses one. */
  jetstream?: JetStreamOptions;
}

/** Zod schema of {@link BusTopologyOptions} (without the JetStream client options), for service config. */
export const busTopologyOptionsSchema = z.object({
  stateStream: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional(),
  connectionsBucket: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional(),
  leasesBucket: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional(),
  replicas: z.number().int().min(1).max(5).optional(),
  storage: z.enum(["file", "memory"]).optional(),
  stateMaxBytes: z.number().int().min(-1).optional(),
  leaseTtlMs: z.number().int().min(1000).optional(),
  connectionsHistory: z.number().int().min(1).max(64).optional(),
});

function check(options: BusTopologyOptions): void {
  const { jetstream: _js, ...rest } = options;
  const parsed = busTopologyOptionsSchema.safeParse(rest);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    throw new BusConfigError(
      `invalid bus topology options: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`,
      issues,
    );
  }
}

const STREAM_NAME_IN_USE = 10058;

function storageType(storage: "file" | "memory"): StorageType {
  return storage === "memory" ? StorageType.Memory : StorageType.File;
}

/**
 * The fields of the state stream this package owns; anything else on the stream is left as is. A tunable
 * setting left out of `options` takes the `existing` stream's value (the default when there is none).
 */
function stateStreamConfig(
  options: BusTopologyOptions,
  existing?: StreamConfig,
): Partial<StreamConfig> & { name: string } {
  return {
    name: options.stateStream ?? DEFAULT_STATE_STREAM,
    description: "fedview durable federated state: last resource event and status per subject",
    subjects: [RESOURCE_SUBJECTS, STATUS_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: options.storage !== undefined ? storageType(options.storage) : (existing?.storage ?? StorageType.File),
    // One message per subject: the stream is a table of current state, deletes kept as tombstones.
    max_msgs_per_subject: 1,
    max_msgs: -1,
    max_bytes: options.stateMaxBytes ?? existing?.max_bytes ?? -1,
    max_age: 0,
    discard: DiscardPolicy.Old,
    num_replicas: options.replicas ?? existing?.num_replicas ?? 1,
    allow_direct: true,
  };
}

function differs(current: StreamConfig, desired: Partial<StreamConfig>): string[] {
  const changed: string[] = [];
  for (const [key, value] of Object.entries(desired)) {
    const have = (current as unknown as Record<string, unknown>)[key];
    // A description is informative only; an operator may have edited it, so it never forces an update.
    if (key === "description") continue;
    const same = Array.isArray(value)
      ? Array.isArray(have) && [...have].sort().join("\n") === [...value].sort().join("\n")
      : have === value;
    if (!same) changed.push(key);
  }
  return changed;
}

async function addOrUpdate(
  jsm: JetStreamManager,
  desiredFor: (existing?: StreamConfig) => Partial<StreamConfig> & { name: string },
): Promise<StreamInfo> {
  const fresh = desiredFor();
  try {
    return await jsm.streams.add(fresh);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== STREAM_NAME_IN_USE) {
      throw new TopologyError(`cannot create stream ${fresh.name}: ${(err as Error).message}`, { cause: err });
    }
  }
  const info = await jsm.streams.info(fresh.name);
  const desired = desiredFor(info.config);
  const changed = differs(info.config, desired);
  if (changed.length === 0) return info;
  if (changed.includes("storage") || changed.includes("retention")) {
    throw new TopologyError(
      `stream ${desired.name} exists with storage ${info.config.storage} and retention ${info.config.retention}; ` +
        "these cannot be changed in place: move the data and recreate the stream",
    );
  }
  try {
    return await jsm.streams.update(desired.name, { ...info.config, ...desired });
  } catch (err) {
    throw new TopologyError(`cannot update stream ${desired.name} (${changed.join(", ")}): ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Creates the durable state stream over `fedview.v1.res.>` and `fedview.v1.status.>` (one message per
 * subject, file storage, discard old, replicas from config), or brings an existing one in line.
 */
export async function ensureStateStream(nc: NatsConnection, options: BusTopologyOptions = {}): Promise<StreamInfo> {
  check(options);
  const jsm = await jetstreamManager(nc, options.jetstream);
  return addOrUpdate(jsm, (existing) => stateStreamConfig(options, existing));
}

/**
 * Settings of one KV bucket. One left undefined is kept on an existing bucket; a new bucket gets 1 replica,
 * history 1, `defaultTtlMs` and file storage.
 */
interface BucketSettings {
  replicas: number | undefined;
  history: number | undefined;
  ttlMs: number | undefined;
  defaultTtlMs: number;
  storage: "file" | "memory" | undefined;
  description: string;
}

async function ensureBucket(
  nc: NatsConnection,
  bucket: string,
  settings: BucketSettings,
  jsOptions: JetStreamOptions | undefined,
): Promise<KV> {
  const jsm = await jetstreamManager(nc, jsOptions);
  const kvm = new Kvm(jsm.jetstream());
  let kv: KV;
  try {
    // Kvm.create opens an existing bucket unchanged, so the settings are reconciled below.
    kv = await kvm.create(bucket, {
      replicas: settings.replicas ?? 1,
      history: settings.history ?? 1,
      ttl: settings.ttlMs ?? settings.defaultTtlMs,
      storage: storageType(settings.storage ?? "file"),
      description: settings.description,
    });
  } catch (err) {
    throw new TopologyError(`cannot create KV bucket ${bucket}: ${(err as Error).message}`, { cause: err });
  }
  const stream = kvStreamName(bucket);
  const info = await jsm.streams.info(stream);
  const desired: Partial<StreamConfig> = {
    num_replicas: settings.replicas ?? info.config.num_replicas,
    max_msgs_per_subject: settings.history ?? info.config.max_msgs_per_subject,
    max_age: settings.ttlMs !== undefined ? nanos(settings.ttlMs) : info.config.max_age,
  };
  const changed = differs(info.config, desired);
  if (settings.storage !== undefined && info.config.storage !== storageType(settings.storage)) {
    throw new TopologyError(
      `KV bucket ${bucket} exists with ${info.config.storage} storage; recreate it to change that`,
    );
  }
  if (changed.length > 0) {
    try {
      const update = { ...info.config, ...desired };
      // The server set the duplicate window from the old TTL and refuses one longer than the new TTL.
      const maxAge = update.max_age ?? 0;
      if (maxAge > 0 && (update.duplicate_window ?? 0) > maxAge) update.duplicate_window = maxAge;
      await jsm.streams.update(stream, update);
    } catch (err) {
      throw new TopologyError(`cannot update KV bucket ${bucket} (${changed.join(", ")}): ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  return kv;
}

/** Creates (or reconciles) the connection-config bucket; returns the opened bucket. */
export async function ensureConnectionsBucket(nc: NatsConnection, options: BusTopologyOptions = {}): Promise<KV> {
  check(options);
  return ensureBucket(
    nc,
    options.connectionsBucket ?? DEFAULT_CONNECTIONS_BUCKET,
    {
      replicas: options.replicas,
      history: options.connectionsHistory,
      // Connection configs never expire: that is the contract, not a tunable, so it is always enforced.
      ttlMs: 0,
      defaultTtlMs: 0,
      storage: options.storage,
      description: "fedview connection configs, written by config-service, secrets sealed",
    },
    options.jetstream,
  );
}

/**
 * Creates (or reconciles) the lease bucket. Its bucket-level TTL is the lease lifetime: a lease not
 * renewed within it disappears, and another replica can take it.
 */
export async function ensureLeasesBucket(nc: NatsConnection, options: BusTopologyOptions = {}): Promise<KV> {
  check(options);
  return ensureBucket(
    nc,
    options.leasesBucket ?? DEFAULT_LEASES_BUCKET,
    {
      replicas: options.replicas,
      history: 1,
      // Omitted, an existing bucket keeps the TTL its lease holders were configured with.
      ttlMs: options.leaseTtlMs,
      defaultTtlMs: DEFAULT_LEASE_TTL_MS,
      storage: options.storage,
      description: "fedview connector ownership leases",
    },
    options.jetstream,
  );
}

/** What {@link ensureBusTopology} set up. */
export interface BusTopology {
  stateStream: StreamInfo;
  connections: KV;
  leases: KV;
}

/** Ensures the state stream and both buckets. */
export async function ensureBusTopology(nc: NatsConnection, options: BusTopologyOptions = {}): Promise<BusTopology> {
  const stateStream = await ensureStateStream(nc, options);
  const connections = await ensureConnectionsBucket(nc, options);
  const leases = await ensureLeasesBucket(nc, options);
  return { stateStream, connections, leases };
}
