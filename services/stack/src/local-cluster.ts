/**
 * The local cluster's connection config. config-service publishes one per RemoteClusterConfiguration;
 * nothing publishes one for `_local`, the local datastore itself, so the stack does: under the same
 * key layout (`<datastoreType>._local`), sealed with config-service's key so connectors that accept only
 * config-service's secrets open it, and served by the connector of the local datastore's type.
 *
 * config-service removes, once its first listing of RCCs is done, every published config without an RCC
 * — `_local` included. The stack therefore publishes `_local` after that first listing, and puts it back
 * (with a newer generation, so nothing published meanwhile can shadow it) whenever it is deleted.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  type BusConnection,
  type ConnectionConfig,
  ConnectionConfigStore,
  type ConnectionConfigWatch,
  type ConnectionSpec,
  DATASTORE_TYPES,
  LOCAL_CLUSTER,
  type SealingKeyPair,
  sealSecrets,
} from "@fedview/bus";
import type { Logger } from "pino";
import type { LocalConnection } from "./local-datastore.js";

/** Options of `publishLocalCluster`. */
export interface LocalClusterOptions {
  nc: BusConnection;
  connection: LocalConnection;
  /** config-service's curve key pair (the stack holds its seed). */
  sealingKey: SealingKeyPair;
  /** The connectors' curve public key. */
  connectorPublicKey: string;
  logger: Logger;
  now?: () => number;
}

/** The published `_local` config, kept in place until disposed. */
export interface LocalClusterConfig extends AsyncDisposable {
  /** The generation currently published. */
  readonly generation: number;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** True when `published` carries exactly `connection` (its sealed part reopened with the sender's key). */
function sameConnection(
  published: ConnectionConfig,
  connection: LocalConnection,
  sealingKey: SealingKeyPair,
  connectorPublicKey: string,
): boolean {
  if (published.status !== "valid" || published.datastoreType !== connection.datastoreType) return false;
  if (canonical(published.spec) !== canonical(connection.spec)) return false;
  let secrets: unknown = {};
  if (published.sealed !== undefined) {
    if (published.sealed.sender !== sealingKey.getPublicKey()) return false;
    // X25519 is symmetric: the sender's key with the recipient's public key opens the box too.
    const opened = sealingKey.open(Buffer.from(published.sealed.data, "base64"), connectorPublicKey);
    if (opened === null) return false;
    try {
      secrets = JSON.parse(Buffer.from(opened).toString("utf8"));
    } catch {
      return false;
    }
  }
  return canonical(secrets) === canonical(connection.secrets);
}

/**
 * Publishes the `_local` connection config (unless the same one is there already) and keeps it
 * published until disposed. Resolves once it is in the bucket.
 */
export async function publishLocalCluster(options: LocalClusterOptions): Promise<LocalClusterConfig> {
  const { nc, connection, sealingKey, connectorPublicKey, logger } = options;
  const now = options.now ?? Date.now;
  const store = await ConnectionConfigStore.open(nc);
  const type = connection.datastoreType;
  let generation = 0;

  const put = async (previous: number): Promise<void> => {
    generation = Math.max(previous + 1, now());
    const config: ConnectionConfig = {
      v: 1,
      cluster: LOCAL_CLUSTER,
      datastoreType: type,
      generation,
      status: "valid",
      spec: connection.spec as ConnectionSpec,
      ...(Object.keys(connection.secrets).length > 0
        ? { sealed: sealSecrets(connection.secrets, sealingKey, connectorPublicKey) }
        : {}),
    };
    await store.put(config);
    logger.info(
      { cluster: LOCAL_CLUSTER, datastoreType: type, generation },
      "published the local cluster's connection config",
    );
  };

  let previous = 0;
  let unchanged = false;
  for (const other of DATASTORE_TYPES) {
    const found = await store.get(other, LOCAL_CLUSTER);
    if (found === null) continue;
    previous = Math.max(previous, found.config.generation);
    if (other !== type) {
      // The local datastore changed type since the last run: the other connector lets go of `_local`.
      await store.delete(other, LOCAL_CLUSTER);
    } else if (sameConnection(found.config, connection, sealingKey, connectorPublicKey)) {
      unchanged = true;
      generation = found.config.generation;
    }
  }
  if (!unchanged) await put(previous);

  // Keep it published: re-put when a snapshot lacks it or a live change deletes it. The watch is opened
  // again after a failure (NATS restarting); `start` resolves once the first snapshot has been checked.
  const closing = new AbortController();
  let current: ConnectionConfigWatch | undefined;
  let started: () => void = () => {};
  const firstSnapshot = new Promise<void>((resolve) => {
    started = resolve;
  });
  const keep = async (): Promise<void> => {
    while (!closing.signal.aborted) {
      try {
        current = await store.watch({ datastoreType: type });
        let present = false;
        let live = false;
        for await (const change of current) {
          if (change.type === "snapshot-complete") {
            live = true;
            if (!present) await republish("missing");
            started();
          } else if (change.type === "put" && change.config.cluster === LOCAL_CLUSTER) {
            present = true;
          } else if (change.type === "delete" && change.cluster === LOCAL_CLUSTER) {
            present = false;
            if (live) await republish("deleted");
          }
        }
      } catch (err) {
        if (!closing.signal.aborted)
          logger.warn({ err }, "watching the local cluster's connection config failed; retrying");
      } finally {
        await current?.close().catch(() => {});
      }
      started();
      await sleep(1000, undefined, { signal: closing.signal }).catch(() => {});
    }
  };
  const republish = async (why: "missing" | "deleted"): Promise<void> => {
    logger.warn(
      { cluster: LOCAL_CLUSTER, why },
      "the local cluster's connection config is gone (config-service keeps only RCCs' configs); publishing it again",
    );
    await put(generation);
  };
  const loop = keep();
  await firstSnapshot;

  return {
    get generation() {
      return generation;
    },
    async [Symbol.asyncDispose]() {
      closing.abort();
      await current?.close().catch(() => {});
      await loop;
    },
  };
}
