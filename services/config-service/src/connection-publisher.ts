import { createHash } from "node:crypto";
import {
  type ClusterStatusMessage,
  type ConnectionConfig,
  type ConnectionConfigStore,
  type ConnectionSpec,
  DATASTORE_TYPES,
  type DatastoreType,
  type SealingKeyPair,
  sealSecrets,
} from "@fedview/bus";
import { canonicalJson } from "./canonical-json.js";
import type { ConnectionSecrets, ResolvedConnection } from "./resolver.js";

/** What config-service wants connectors to see for one cluster. */
export type DesiredConnection =
  | { status: "valid"; connection: ResolvedConnection }
  | { status: "invalid"; datastoreType: DatastoreType | undefined; error: string };

/** What a publish did. */
export interface PublishOutcome {
  /** False when the content equals what is already published: nothing was written. */
  changed: boolean;
  /** The cluster's generation after the call (0 when nothing was ever published for it). */
  generation: number;
}

/** Writes cluster statuses (`ConfigIncomplete` and its removal) on the bus. */
export type StatusSink = (message: ClusterStatusMessage) => Promise<void>;

export interface ConnectionPublisherOptions {
  store: Pick<ConnectionConfigStore, "list" | "put" | "delete">;
  publishStatus: StatusSink;
  /** config-service's own curve key pair: it seals, and lets this service reopen what it sealed. */
  sealingKey: SealingKeyPair;
  /** The connectors' curve public key (`X…`): only its private key opens the secrets. */
  connectorPublicKey: string;
  /** Called before every write; throws (`NotLeaderError`) to refuse it when this replica no longer leads. */
  fence?: () => void;
  now?: () => Date;
}

/** What is known of a cluster's published config. */
interface Published {
  /** The datastore types under whose keys the config is published. */
  types: DatastoreType[];
  generation: number;
  fingerprint: string | undefined;
  status: "valid" | "invalid";
  /** When the cluster entered ConfigIncomplete, kept while the error text changes. */
  invalidSince?: string;
  /** Sealed with this service's key, or carrying nothing sealed: this service may have written it. */
  own: boolean;
}

/**
 * Publishes one connection config per cluster into the connections bucket, secrets sealed. A config is
 * written only when its content changed, and then with a new generation: `max(previous + 1, now in ms)`,
 * which keeps growing across restarts and across a delete and re-create of the same name. On start,
 * `load()` reads what is published and reopens the sealed part with this service's own key, so an
 * unchanged config is not republished as a change.
 *
 * An invalid config goes under the key of the datastore type the RCC names; when it names none (a bad
 * type, or a Secret that could not be read), under the type it had, or under every type if it never had
 * one, so that whichever connectors hold the cluster retract it.
 */
export interface ConnectionPublisher {
  /** Reads the bucket; clusters whose entries cannot be reopened count as changed on their next publish. */
  load(): Promise<void>;
  publish(cluster: string, desired: DesiredConnection): Promise<PublishOutcome>;
  /** Deletes the cluster's config (connectors retract) and removes the status this service published. */
  remove(cluster: string): Promise<void>;
  /** Clusters with a published config. */
  clusters(): string[];
  /**
   * Whether the cluster's config was (or may have been) published by this service: sealed with its key, or
   * with nothing sealed. A config sealed by another key is someone else's (or another replica's, if the
   * replicas do not share their seed).
   */
  isOwn(cluster: string): boolean;
  generation(cluster: string): number | undefined;
}

export function createConnectionPublisher(options: ConnectionPublisherOptions): ConnectionPublisher {
  const now = options.now ?? (() => new Date());
  const fence = options.fence ?? (() => {});
  const published = new Map<string, Published>();
  const ownPublicKey = options.sealingKey.getPublicKey();

  const reopen = (config: ConnectionConfig): ConnectionSecrets | undefined => {
    if (config.sealed === undefined) return {};
    if (config.sealed.sender !== ownPublicKey) return undefined;
    // X25519 is symmetric: the sender's seed with the recipient's public key opens the box too.
    const opened = options.sealingKey.open(Buffer.from(config.sealed.data, "base64"), options.connectorPublicKey);
    if (opened === null) return undefined;
    try {
      return JSON.parse(Buffer.from(opened).toString("utf8")) as ConnectionSecrets;
    } catch {
      return undefined;
    }
  };

  const targetsOf = (desired: DesiredConnection, previous: Published | undefined): DatastoreType[] => {
    if (desired.status === "valid") return [desired.connection.datastoreType];
    if (desired.datastoreType !== undefined) return [desired.datastoreType];
    return previous !== undefined && previous.types.length > 0 ? previous.types : [...DATASTORE_TYPES];
  };

  return {
    async load() {
      const entries = (await options.store.list()).sort((a, b) => a.config.generation - b.config.generation);
      for (const { config } of entries) {
        const known = published.get(config.cluster);
        if (known !== undefined && known.generation === config.generation) {
          // The same publish under several types (an invalid RCC naming none).
          known.types = sortTypes([...known.types, config.datastoreType]);
          continue;
        }
        const secrets = config.status === "valid" ? reopen(config) : {};
        published.set(config.cluster, {
          own: config.sealed === undefined || config.sealed.sender === ownPublicKey,
          // Keys of older generations are leftovers of a type change cut short: the next publish deletes them.
          types: sortTypes([...(known?.types ?? []), config.datastoreType]),
          generation: config.generation,
          status: config.status,
          fingerprint:
            secrets === undefined
              ? undefined
              : config.status === "valid"
                ? fingerprint({
                    status: "valid",
                    connection: { datastoreType: config.datastoreType, spec: config.spec as never, secrets },
                  })
                : fingerprint({ status: "invalid", datastoreType: undefined, error: config.error ?? "" }),
        });
      }
    },

    async publish(cluster, desired) {
      const previous = published.get(cluster);
      const targets = targetsOf(desired, previous);
      const print = fingerprint(desired.status === "valid" ? desired : { ...desired, datastoreType: undefined });
      if (previous !== undefined && previous.fingerprint === print && sameTypes(previous.types, targets)) {
        return { changed: false, generation: previous.generation };
      }
      const generation = Math.max((previous?.generation ?? 0) + 1, now().getTime());
      const since = now().toISOString();
      for (const datastoreType of targets) {
        const config: ConnectionConfig =
          desired.status === "valid"
            ? {
                v: 1,
                cluster,
                datastoreType,
                generation,
                status: "valid",
                spec: desired.connection.spec as ConnectionSpec,
                ...(Object.keys(desired.connection.secrets).length > 0
                  ? {
                      sealed: sealSecrets(
                        desired.connection.secrets as Record<string, string>,
                        options.sealingKey,
                        options.connectorPublicKey,
                      ),
                    }
                  : {}),
              }
            : { v: 1, cluster, datastoreType, generation, status: "invalid", error: desired.error, spec: {} };
        fence();
        await options.store.put(config);
      }
      // The cluster left a datastore type: that type's connectors must let go of it.
      for (const old of previous?.types ?? []) {
        if (targets.includes(old)) continue;
        fence();
        await options.store.delete(old, cluster);
      }
      const invalidSince =
        desired.status === "invalid"
          ? previous?.status === "invalid"
            ? (previous.invalidSince ?? since)
            : since
          : undefined;
      if (desired.status === "invalid") {
        fence();
        await options.publishStatus({
          v: 1,
          op: "upsert",
          cluster,
          status: "ConfigIncomplete",
          error: desired.error,
          since: invalidSince ?? since,
          generation,
          counts: {},
          stale: false,
        });
      }
      published.set(cluster, {
        own: true,
        types: sortTypes(targets),
        generation,
        fingerprint: print,
        status: desired.status,
        ...(invalidSince !== undefined ? { invalidSince } : {}),
      });
      return { changed: true, generation };
    },

    async remove(cluster) {
      const previous = published.get(cluster);
      if (previous === undefined) return;
      for (const datastoreType of previous.types) {
        fence();
        await options.store.delete(datastoreType, cluster);
      }
      // A valid cluster's status belongs to its connector, which removes it after retracting the data.
      if (previous.status === "invalid") {
        fence();
        await options.publishStatus({
          v: 1,
          op: "delete",
          cluster,
          generation: previous.generation,
          since: now().toISOString(),
        });
      }
      published.delete(cluster);
    },

    clusters: () => [...published.keys()],
    isOwn: (cluster) => published.get(cluster)?.own === true,
    generation: (cluster) => published.get(cluster)?.generation,
  };
}

function sortTypes(types: DatastoreType[]): DatastoreType[] {
  return [...new Set(types)].sort();
}

function sameTypes(a: DatastoreType[], b: DatastoreType[]): boolean {
  return sortTypes(a).join(",") === sortTypes(b).join(",");
}

/** A digest of everything a connector would see, secrets included; it never leaves the process. */
function fingerprint(desired: DesiredConnection): string {
  const content =
    desired.status === "valid"
      ? { status: "valid", ...desired.connection }
      : { status: "invalid", datastoreType: desired.datastoreType ?? null, error: desired.error };
  return createHash("sha256").update(canonicalJson(content)).digest("hex");
}
