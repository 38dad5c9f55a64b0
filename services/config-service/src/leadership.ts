import {
  type BusConnection,
  decodeLeaseRecord,
  type LeaseLossReason,
  LeaseManager,
  leaseKey,
  systemTimers,
  type Timers,
  TopologyError,
} from "@fedview/bus";
import { jetstream } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import type { Logger } from "pino";
import type { ConfigServiceMetrics } from "./metrics.js";

/**
 * The lease whose holder publishes connection configs. It shares the connectors' lease bucket, where
 * cluster leases are named by cluster: the `:` keeps it apart from every RCC name (DNS labels) and `_local`.
 */
export const CONFIG_SERVICE_LEASE = "leader:config-service";

/** Who publishes. */
export interface LeadershipStatus {
  lease: string;
  /** This replica's identity (`FEDVIEW_REPLICA_ID`). */
  replicaId: string;
  /** This replica holds the lease and its local deadline has not passed: it publishes. */
  leading: boolean;
  /** The replica holding the lease, as last read from the bus (absent while nobody holds it). */
  leader?: string;
  /** When the leader last renewed the lease, as last read. */
  leaderRenewedAt?: string;
  /** When this replica last became leader or stopped being one. */
  since: string;
  /** Lease operations or reads that failed (the bus unreachable); the rounds go on. */
  failures: number;
  lastFailure?: { at: string; message: string };
}

export interface LeadershipOptions {
  nc: BusConnection;
  /** The lease bucket (the connectors' `fedview-leases`); its TTL is the lease lifetime. */
  bucket: string;
  replicaId: string;
  /** Timers of the renewal rounds; tests stop them to simulate a replica that hangs. */
  timers?: Timers;
  /** Clock in milliseconds. */
  now?: () => number;
  logger: Logger;
  metrics: ConfigServiceMetrics;
  /** This replica now holds the lease: start publishing. Called inside a lease round; do not block. */
  onElected: () => void;
  /** This replica lost the lease: stop publishing at once. */
  onDeposed: (reason: LeaseLossReason) => void;
}

/**
 * One leader among config-service replicas, through a lease of `@fedview/bus`'s `LeaseManager`: every
 * replica wants the lease; the holder renews it every third of the TTL and publishes; a standby tries to
 * take it on each round, so it takes over within a TTL of the holder's death (at once when the holder stops
 * and releases it). A holder counts itself deposed a safety margin before the server can expire its lease,
 * so two replicas never both believe they lead while their clocks run at the same rate.
 */
export interface Leadership extends AsyncDisposable {
  /** Claims the lease (calling `onElected` if it is free) and starts the rounds; resolves to whether this replica leads. */
  start(): Promise<boolean>;
  /** Whether this replica leads now: checked before every write, so a hung leader that wakes up writes nothing. */
  isLeader(): boolean;
  status(): LeadershipStatus;
}

/** Opens the lease bucket (it must exist: `ensureBusTopology` creates it) and prepares the leadership rounds. */
export async function openLeadership(options: LeadershipOptions): Promise<Leadership> {
  const { logger, metrics, replicaId } = options;
  const timers = options.timers ?? systemTimers;
  const now = options.now ?? Date.now;
  const kv: KV = await new Kvm(jetstream(options.nc)).open(options.bucket);
  let ttlMs: number;
  try {
    ttlMs = (await kv.status()).ttl;
  } catch (error) {
    throw new TopologyError(
      `the lease bucket ${options.bucket} is not available: create it (FEDVIEW_ENSURE_STREAM=true does) or set FEDVIEW_LEASES_BUCKET`,
      { cause: error },
    );
  }
  if (!(ttlMs > 0)) {
    throw new TopologyError(
      `the lease bucket ${options.bucket} has no TTL, so a dead leader's lease would never expire`,
    );
  }
  const intervalMs = Math.floor(ttlMs / 3);
  let since = new Date(now()).toISOString();
  let failures = 0;
  let lastFailure: LeadershipStatus["lastFailure"];
  let seen: { holder: string; renewedAt: string } | undefined;
  let timer: unknown;
  let round: Promise<void> = Promise.resolve();
  let closed = false;

  const fail = (error: unknown): void => {
    failures++;
    lastFailure = {
      at: new Date(now()).toISOString(),
      message: error instanceof Error ? error.message : String(error),
    };
  };

  const leases = new LeaseManager(kv, {
    holder: replicaId,
    ttlMs,
    renewIntervalMs: intervalMs,
    now,
    timers,
    onAcquired: () => {
      since = new Date(now()).toISOString();
      seen = { holder: replicaId, renewedAt: since };
      metrics.leader.set(1);
      metrics.leadershipChanges.inc({ change: "acquired" });
      logger.info(
        { replicaId, lease: CONFIG_SERVICE_LEASE },
        "elected leader: this replica publishes connection configs",
      );
      options.onElected();
    },
    onLost: (_name, reason, error) => {
      since = new Date(now()).toISOString();
      metrics.leader.set(0);
      metrics.leadershipChanges.inc({ change: "lost" });
      logger.warn(
        { replicaId, reason, ...(error !== undefined ? { err: error } : {}) },
        reason === "taken"
          ? "another replica took the leader lease: this replica stops publishing and serves the config RPC only"
          : "the leader lease could not be renewed in time: this replica stops publishing until it wins the lease again",
      );
      options.onDeposed(reason);
    },
  });

  const readLeader = async (): Promise<void> => {
    const key = leaseKey(CONFIG_SERVICE_LEASE);
    const entry = await kv.get(key);
    if (entry === null || entry.operation !== "PUT") {
      seen = undefined;
      return;
    }
    const record = decodeLeaseRecord(entry.value, key);
    seen = { holder: record.holder, renewedAt: record.renewedAt };
  };

  const runRound = async (): Promise<void> => {
    try {
      await leases.tick();
      await readLeader();
    } catch (error) {
      fail(error);
    }
  };

  const schedule = (): void => {
    if (closed) return;
    timer = timers.setTimeout(() => {
      timer = undefined;
      round = runRound().finally(schedule);
    }, intervalMs);
  };

  return {
    async start() {
      const leading = await leases.claim(CONFIG_SERVICE_LEASE);
      if (!leading) {
        await readLeader().catch(fail);
        logger.info(
          { replicaId, leader: seen?.holder },
          "standing by: another replica holds the leader lease; this one serves the config RPC and takes over if the leader goes",
        );
      }
      schedule();
      return leading;
    },

    isLeader: () => !closed && leases.isHeld(CONFIG_SERVICE_LEASE),

    status() {
      const leading = !closed && leases.isHeld(CONFIG_SERVICE_LEASE);
      const manager = leases.status();
      // The manager's own failures (renewals, acquisitions) and this module's reads, together.
      const lastError =
        manager.lastErrorAt !== undefined && (lastFailure === undefined || manager.lastErrorAt > lastFailure.at)
          ? { at: manager.lastErrorAt, message: manager.lastError ?? "" }
          : lastFailure;
      // A lapsed lease of this replica's own is nobody's.
      const leader = leading ? replicaId : seen?.holder !== replicaId ? seen?.holder : undefined;
      return {
        lease: CONFIG_SERVICE_LEASE,
        replicaId,
        leading,
        ...(leader !== undefined ? { leader } : {}),
        ...(leader !== undefined && seen?.holder === leader ? { leaderRenewedAt: seen.renewedAt } : {}),
        since,
        failures: failures + manager.failures,
        ...(lastError !== undefined ? { lastFailure: lastError } : {}),
      };
    },

    async [Symbol.asyncDispose]() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) timers.clearTimeout(timer);
      timer = undefined;
      await round;
      // Releasing lets a standby take over at once instead of after the TTL.
      await leases.close().catch((error: unknown) => {
        logger.warn({ err: error }, "releasing the leader lease failed; it expires after its TTL");
      });
      metrics.leader.set(0);
    },
  };
}
