/**
 * Ownership leases for connector replicas: each cluster is served by exactly one live replica, and a
 * dead replica's clusters move to another within a TTL.
 *
 * A lease is a key in a KV bucket whose bucket-level TTL (max age; nats 2.9 has no per-key TTL) is the
 * lease lifetime. Acquire = `create` (fails while someone holds it); renew = compare-and-set `update`
 * against the revision we wrote last; release = delete at that revision. A replica that stops renewing
 * loses its keys to the server's expiry, after which another replica's `create` succeeds.
 *
 * A holder declares a lease lost before the server could expire it (`ttl - safety margin` after the
 * renewal that last succeeded was sent), so two replicas never both believe they hold a lease as long
 * as their clocks run at the same rate.
 *
 * Renewals come first: each round renews every held lease at once (at most `renewConcurrency` requests
 * in flight) and only then tries the wanted leases it does not hold. Acquisitions, claims and releases
 * run one at a time in their own lane, and the next round's renewals never wait for them: on a slow
 * server thousands of failed `create`s for leases other replicas hold used to sit between two renewals
 * of a held lease until it expired.
 */
import type { JetStreamOptions } from "@nats-io/jetstream";
import { JetStreamApiError, jetstream } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { decodeLeaseRecord, encodeLeaseRecord } from "./codecs.js";
import { BusConfigError, TopologyError } from "./errors.js";
import { DEFAULT_LEASES_BUCKET, leaseKey } from "./subjects.js";
import type { Timers } from "./timers.js";
import { systemTimers } from "./timers.js";
import type { LeaseRecord } from "./types.js";

/** Why a lease was lost: another replica holds it now, or it could not be renewed in time. */
export type LeaseLossReason = "taken" | "expired";

/** Options of a {@link LeaseManager}. */
export interface LeaseManagerOptions {
  /** This replica's identity, unique per process (e.g. hostname, pid and a random suffix). */
  holder: string;
  /** The lease bucket's TTL in milliseconds. */
  ttlMs: number;
  /** Milliseconds between renewal rounds; default a third of the TTL. */
  renewIntervalMs?: number;
  /** A lease counts as lost this long before the server could expire it; default a sixth of the TTL. */
  safetyMarginMs?: number;
  /** Renewal requests in flight at once in a round; default {@link DEFAULT_RENEW_CONCURRENCY}. */
  renewConcurrency?: number;
  /** Clock in milliseconds; default `Date.now`. */
  now?: () => number;
  /** Timer functions; default {@link systemTimers}. */
  timers?: Timers;
  /** Called when a lease is acquired (again). */
  onAcquired?: (name: string) => void;
  /** Called when a held lease is lost; stop serving its cluster at once. */
  onLost?: (name: string, reason: LeaseLossReason, error?: unknown) => void;
}

/** What a {@link LeaseManager} reports about itself. */
export interface LeaseManagerStatus {
  holder: string;
  held: string[];
  wanted: string[];
  /** Failed KV operations so far (other than "someone else holds it"). */
  failures: number;
  lastError?: string;
  lastErrorAt?: string;
}

interface HeldLease {
  revision: number;
  acquiredAt: string;
  /** When the request that last wrote the lease was sent; the server's TTL runs from about then. */
  writtenAt: number;
}

const WRONG_LAST_SEQUENCE = 10071;

/** Renewal requests a {@link LeaseManager} keeps in flight at once unless told otherwise. */
const DEFAULT_RENEW_CONCURRENCY = 32;

function isConflict(err: unknown): boolean {
  return err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE;
}

/**
 * Keeps the leases this replica wants: acquires them when free, renews them on a timer, notices loss
 * (compare-and-set failure or local expiry) and reports `acquired` / `lost` through callbacks.
 *
 * Two lanes: renewal rounds run one after another, and claims, releases and acquisition attempts run
 * one after another; a round's renewals never wait behind the other lane. A lease is never renewed
 * and released or acquired at the same time: a release waits for that lease's renewal in flight, and
 * only leases not held are acquired. Callbacks run synchronously, one at a time.
 */
export class LeaseManager implements AsyncDisposable {
  readonly #kv: KV;
  readonly #holder: string;
  readonly #ttlMs: number;
  readonly #intervalMs: number;
  readonly #marginMs: number;
  readonly #now: () => number;
  readonly #timers: Timers;
  readonly #onAcquired: ((name: string) => void) | undefined;
  readonly #onLost: ((name: string, reason: LeaseLossReason, error?: unknown) => void) | undefined;
  readonly #renewConcurrency: number;
  readonly #wanted = new Set<string>();
  readonly #held = new Map<string, HeldLease>();
  /** Renewals in flight by lease name. */
  readonly #renewing = new Map<string, Promise<unknown>>();
  /** The lane of claims, releases and acquisition rounds. */
  #queue: Promise<unknown> = Promise.resolve();
  /** The lane of renewal rounds. */
  #renewals: Promise<unknown> = Promise.resolve();
  /** An acquisition round queued but not started yet; later rounds join it instead of queueing more. */
  #pendingAcquisitions: Promise<void> | undefined;
  /** Acquisition rounds queued or running; the timer queues none while one is. */
  #acquisitionRounds = 0;
  #timer: unknown;
  #running = false;
  #closed = false;
  #failures = 0;
  #lastError: string | undefined;
  #lastErrorAt: string | undefined;

  constructor(kv: KV, options: LeaseManagerOptions) {
    if (!(options.ttlMs > 0)) throw new BusConfigError("a lease TTL must be positive");
    this.#kv = kv;
    this.#holder = options.holder;
    this.#ttlMs = options.ttlMs;
    this.#intervalMs = options.renewIntervalMs ?? Math.floor(options.ttlMs / 3);
    this.#marginMs = options.safetyMarginMs ?? Math.floor(options.ttlMs / 6);
    if (this.#intervalMs + this.#marginMs >= this.#ttlMs) {
      throw new BusConfigError("renew interval plus safety margin must be shorter than the lease TTL");
    }
    this.#now = options.now ?? Date.now;
    this.#timers = options.timers ?? systemTimers;
    this.#onAcquired = options.onAcquired;
    this.#onLost = options.onLost;
    this.#renewConcurrency = options.renewConcurrency ?? DEFAULT_RENEW_CONCURRENCY;
    if (!Number.isInteger(this.#renewConcurrency) || this.#renewConcurrency < 1) {
      throw new BusConfigError(
        `renewConcurrency must be a positive integer (got ${String(options.renewConcurrency)}); leave it unset for ${DEFAULT_RENEW_CONCURRENCY}`,
      );
    }
  }

  /**
   * Opens the lease bucket (create it with {@link ensureLeasesBucket}) and a manager whose TTL is the
   * bucket's, so the two cannot disagree.
   */
  static async open(
    nc: NatsConnection,
    options: Omit<LeaseManagerOptions, "ttlMs"> & { bucket?: string; jetstream?: JetStreamOptions },
  ): Promise<LeaseManager> {
    const bucket = options.bucket ?? DEFAULT_LEASES_BUCKET;
    const kv = await new Kvm(jetstream(nc, options.jetstream)).open(bucket);
    let ttlMs: number;
    try {
      ttlMs = (await kv.status()).ttl;
    } catch (err) {
      throw new TopologyError(`KV bucket ${bucket} is not available (run ensureLeasesBucket first)`, { cause: err });
    }
    if (!(ttlMs > 0)) throw new TopologyError(`KV bucket ${bucket} has no TTL, so its leases would never expire`);
    return new LeaseManager(kv, { ...options, ttlMs });
  }

  /** Starts renewing on the timer. Idempotent. */
  start(): void {
    if (this.#running || this.#closed) return;
    this.#running = true;
    this.#schedule();
  }

  /** Stops the timer but keeps the leases, which then expire on the server. Idempotent. */
  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Wants `name` from now on: tries to acquire it at once and, if someone else holds it, again on every
   * round. Resolves to whether this replica holds it now.
   */
  claim(name: string): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    this.#wanted.add(name);
    return this.#exclusive(async () => {
      if (!this.#held.has(name)) await this.#acquire(name);
      return this.isHeld(name);
    });
  }

  /** No longer wants `name`; deletes the lease if held, so another replica can take it at once. */
  release(name: string): Promise<void> {
    this.#wanted.delete(name);
    return this.#exclusive(async () => {
      // A renewal in flight would move the revision under the delete; let it land first.
      for (let inFlight = this.#renewing.get(name); inFlight !== undefined; inFlight = this.#renewing.get(name)) {
        await inFlight.catch(() => undefined);
      }
      const lease = this.#held.get(name);
      if (lease === undefined) return;
      this.#held.delete(name);
      try {
        await this.#kv.delete(leaseKey(name), { previousSeq: lease.revision });
      } catch (err) {
        // Already taken or expired: nothing of ours left to delete.
        if (!isConflict(err)) this.#recordError(err);
      }
    });
  }

  /** True while this replica holds `name` and its local deadline has not passed. */
  isHeld(name: string): boolean {
    const lease = this.#held.get(name);
    return lease !== undefined && this.#now() < this.#deadline(lease);
  }

  /** The names held now. */
  held(): string[] {
    return [...this.#held.keys()].filter((name) => this.isHeld(name));
  }

  /**
   * One round: renew what is held and declare lost what cannot be (all held leases at once, bounded),
   * then acquire what is wanted and free. Resolves when both are done.
   */
  async tick(): Promise<void> {
    await this.#renewRound();
    await this.#acquisitionRound();
  }

  /** Holder, held and wanted leases, and the last failure. */
  status(): LeaseManagerStatus {
    return {
      holder: this.#holder,
      held: this.held(),
      wanted: [...this.#wanted],
      failures: this.#failures,
      ...(this.#lastError === undefined ? {} : { lastError: this.#lastError }),
      ...(this.#lastErrorAt === undefined ? {} : { lastErrorAt: this.#lastErrorAt }),
    };
  }

  /** Stops renewing and releases every held lease. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.stop();
    const names = [...this.#wanted];
    await Promise.all(names.map((name) => this.release(name)));
    this.#closed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #schedule(): void {
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      // The next round is timed from the end of this one's renewals, not of its acquisitions, which
      // may take longer than a lease lives when many wanted leases are held elsewhere.
      // A round of acquisitions still going (thousands of leases held elsewhere on a slow server) is
      // not followed at once by another: claims would wait behind both, and the server would get no rest.
      void this.#renewRound().finally(() => {
        if (this.#acquisitionRounds === 0) void this.#acquisitionRound();
        if (this.#running) this.#schedule();
      });
    }, this.#intervalMs);
  }

  /** Renews every held and wanted lease, `renewConcurrency` at a time; after the previous round. */
  #renewRound(): Promise<void> {
    const round = this.#renewals.then(async () => {
      const due = [...this.#held].filter(([name]) => this.#wanted.has(name));
      let next = 0;
      const worker = async (): Promise<void> => {
        while (next < due.length && !this.#closed) {
          const [name, lease] = due[next++]!;
          // Released or lost (and maybe acquired again) since the round began: not ours to renew.
          if (this.#held.get(name) !== lease || !this.#wanted.has(name)) continue;
          const renewal = this.#renew(name, lease);
          this.#renewing.set(name, renewal);
          try {
            await renewal;
          } finally {
            this.#renewing.delete(name);
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.#renewConcurrency, due.length) }, worker));
    });
    this.#renewals = round.catch(() => undefined);
    return round;
  }

  /** Tries every wanted lease not held, one at a time in the claims' lane. */
  #acquisitionRound(): Promise<void> {
    if (this.#pendingAcquisitions !== undefined) return this.#pendingAcquisitions;
    this.#acquisitionRounds++;
    const round = this.#exclusive(async () => {
      this.#pendingAcquisitions = undefined;
      try {
        for (const name of [...this.#wanted]) {
          if (this.#closed) return;
          if (!this.#held.has(name) && this.#wanted.has(name)) await this.#acquire(name);
        }
      } finally {
        this.#acquisitionRounds--;
      }
    });
    this.#pendingAcquisitions = round;
    return round;
  }

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    // The chain never rejects, so one failed operation does not poison the next.
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #deadline(lease: HeldLease): number {
    return lease.writtenAt + this.#ttlMs - this.#marginMs;
  }

  #record(acquiredAt: string): Uint8Array {
    const record: LeaseRecord = {
      v: 1,
      holder: this.#holder,
      acquiredAt,
      renewedAt: new Date(this.#now()).toISOString(),
    };
    return encodeLeaseRecord(record);
  }

  /** Renews a held lease; false if it is no longer held afterwards. */
  async #renew(name: string, lease: HeldLease): Promise<boolean> {
    const sentAt = this.#now();
    if (sentAt >= this.#deadline(lease)) {
      this.#lose(name, "expired");
      return false;
    }
    try {
      lease.revision = await this.#kv.update(leaseKey(name), this.#record(lease.acquiredAt), lease.revision);
      lease.writtenAt = sentAt;
      return true;
    } catch (err) {
      if (isConflict(err)) {
        this.#lose(name, "taken", err);
        return false;
      }
      this.#recordError(err);
      // The next round would come after the deadline: give the lease up now rather than serve past it.
      if (this.#now() + this.#intervalMs >= this.#deadline(lease)) {
        this.#lose(name, "expired", err);
        return false;
      }
      return true;
    }
  }

  async #acquire(name: string): Promise<void> {
    const key = leaseKey(name);
    const sentAt = this.#now();
    const acquiredAt = new Date(sentAt).toISOString();
    try {
      const revision = await this.#kv.create(key, this.#record(acquiredAt));
      this.#gain(name, { revision, acquiredAt, writtenAt: sentAt });
      return;
    } catch (err) {
      if (!isConflict(err)) {
        this.#recordError(err);
        return;
      }
    }
    // Someone holds it. If that someone is this replica (a lease it declared lost but that has not
    // expired yet), take it back by compare-and-set instead of waiting for the expiry.
    try {
      const entry = await this.#kv.get(key);
      if (entry === null || entry.operation !== "PUT") return;
      let record: LeaseRecord;
      try {
        record = decodeLeaseRecord(entry.value, key);
      } catch {
        return;
      }
      if (record.holder !== this.#holder) return;
      const revision = await this.#kv.update(key, this.#record(acquiredAt), entry.revision);
      this.#gain(name, { revision, acquiredAt, writtenAt: sentAt });
    } catch (err) {
      if (!isConflict(err)) this.#recordError(err);
    }
  }

  #gain(name: string, lease: HeldLease): void {
    this.#held.set(name, lease);
    try {
      this.#onAcquired?.(name);
    } catch {
      // Callback failures belong to the caller; the lease bookkeeping must go on.
    }
  }

  #lose(name: string, reason: LeaseLossReason, error?: unknown): void {
    this.#held.delete(name);
    try {
      this.#onLost?.(name, reason, error);
    } catch {
      // As above.
    }
  }

  #recordError(err: unknown): void {
    this.#failures++;
    this.#lastError = err instanceof Error ? err.message : String(err);
    this.#lastErrorAt = new Date(this.#now()).toISOString();
  }
}
