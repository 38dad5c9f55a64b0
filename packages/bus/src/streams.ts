/**
 * JetStream topology: the durable state stream and the KV buckets, created idempotently with settings
 * from config. Every service may call {@link ensureBusTopology} at start; running it again (or from many
 * replicas at once) is harmless, and a changed setting (e.g. replicas) is applied by updating in place.
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
  /** Replicas of the stream and buckets (1, 3 or 5; at most the cluster size). Default 1. */
  replicas?: number;
  /** Storage of the state stream and the buckets; default `file`. */
  storage?: "file" | "memory";
  /** Byte limit of the state stream; default unlimited (-1). */
  stateMaxBytes?: number;
  /** Lease bucket TTL in milliseconds (nats 2.9 has no per-key TTL); default 6000. */
  leaseTtlMs?: number;
  /** Revisions kept per connection key; default 1. */
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

/** The fields of the state stream this package owns; anything else on the stream is left as is. */
function stateStreamConfig(options: BusTopologyOptions): Partial<StreamConfig> & { name: string } {
  return {
    name: options.stateStream ?? DEFAULT_STATE_STREAM,
    description: "fedview durable federated state: last resource event and status per subject",
    subjects: [RESOURCE_SUBJECTS, STATUS_SUBJECTS],
    retention: RetentionPolicy.Limits,
    storage: options.storage === "memory" ? StorageType.Memory : StorageType.File,
    // One message per subject: the stream is a table of current state, deletes kept as tombstones.
    max_msgs_per_subject: 1,
    max_msgs: -1,
    max_bytes: options.stateMaxBytes ?? -1,
    max_age: 0,
    discard: DiscardPolicy.Old,
    num_replicas: options.replicas ?? 1,
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
  desired: Partial<StreamConfig> & { name: string },
): Promise<StreamInfo> {
  try {
    return await jsm.streams.add(desired);
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== STREAM_NAME_IN_USE) {
      throw new TopologyError(`cannot create stream ${desired.name}: ${(err as Error).message}`, { cause: err });
    }
  }
  const info = await jsm.streams.info(desired.name);
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
  return addOrUpdate(jsm, stateStreamConfig(options));
}

/** Settings of one KV bucket. */
interface BucketSettings {
  replicas: number;
  history: number;
  ttlMs: number;
  storage: "file" | "memory";
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
      replicas: settings.replicas,
      history: settings.history,
      ttl: settings.ttlMs,
      storage: settings.storage === "memory" ? StorageType.Memory : StorageType.File,
      description: settings.description,
    });
  } catch (err) {
    throw new TopologyError(`cannot create KV bucket ${bucket}: ${(err as Error).message}`, { cause: err });
  }
  const stream = kvStreamName(bucket);
  const info = await jsm.streams.info(stream);
  const desired: Partial<StreamConfig> = {
    num_replicas: settings.replicas,
    max_msgs_per_subject: settings.history,
    max_age: nanos(settings.ttlMs),
  };
  const changed = differs(info.config, desired);
  if (info.config.storage !== (settings.storage === "memory" ? StorageType.Memory : StorageType.File)) {
    throw new TopologyError(
      `KV bucket ${bucket} exists with ${info.config.storage} storage; recreate it to change that`,
    );
  }
  if (changed.length > 0) {
    try {
      await jsm.streams.update(stream, { ...info.config, ...desired });
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
      replicas: options.replicas ?? 1,
      history: options.connectionsHistory ?? 1,
      ttlMs: 0,
      storage: options.storage ?? "file",
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
      replicas: options.replicas ?? 1,
      history: 1,
      ttlMs: options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
      storage: options.storage ?? "file",
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
