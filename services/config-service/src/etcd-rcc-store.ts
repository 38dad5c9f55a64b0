import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { etcdPrefix, parseEtcdKey, ResourceKind, toEtcdKey } from "@fedview/model";
import { Etcd3, type IKeyValue, type IOptions } from "etcd3";
import type { EtcdSettings } from "./config.js";
import { ConfigurationError, DatastoreError, RccConflictError, RccNotFoundError } from "./errors.js";
import { ExpiredWatchError, type ListResult, type WatchEnd, type WatchEvent, type WatchStream } from "./list-watch.js";
import type { DeleteRccOptions, RccObject, RccStore, StoredRcc } from "./types.js";

/** etcd3 client options from calicoctl-style settings; the TLS files are read now. */
export async function etcdClientOptions(settings: EtcdSettings): Promise<IOptions> {
  const read = async (variable: string, path: string | undefined): Promise<Buffer | undefined> => {
    if (path === undefined) return undefined;
    try {
      return await readFile(path);
    } catch (error) {
      throw new ConfigurationError(
        `${variable}: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        { cause: error },
      );
    }
  };
  const [ca, cert, key] = await Promise.all([
    read("ETCD_CA_CERT_FILE", settings.caCertFile),
    read("ETCD_CERT_FILE", settings.certFile),
    read("ETCD_KEY_FILE", settings.keyFile),
  ]);
  const tls = ca !== undefined || cert !== undefined || settings.endpoints.some((e) => e.startsWith("https:"));
  return {
    hosts: settings.endpoints,
    ...(tls
      ? {
          credentials: {
            // Without a CA file, the system roots verify the server, as with calicoctl.
            rootCertificate: ca as Buffer,
            ...(cert !== undefined ? { certChain: cert } : {}),
            ...(key !== undefined ? { privateKey: key } : {}),
          },
        }
      : {}),
    ...(settings.username !== undefined
      ? { auth: { username: settings.username, password: settings.password ?? "" } }
      : {}),
  };
}

export interface EtcdRccStoreOptions {
  /** How to reach the local etcd (hosts, TLS credentials, username/password). */
  etcd: IOptions;
  /** Clock for `creationTimestamp`. */
  now?: () => Date;
}

const RCC_ETCD_PREFIX = etcdPrefix(ResourceKind.RemoteClusterConfiguration);
const rccEtcdKey = (name: string): string => toEtcdKey(ResourceKind.RemoteClusterConfiguration, { name });
const rccNameFromEtcdKey = (key: string): string | undefined => {
  const ref = parseEtcdKey(key);
  return ref?.kind === ResourceKind.RemoteClusterConfiguration ? ref.name : undefined;
};

/** How long a watch cancel may wait for etcd's acknowledgement. */
const CANCEL_TIMEOUT_MS = 5_000;

/** Unconditional updates and deletes retry this many times when another writer keeps winning the race. */
const MAX_RACE_RETRIES = 5;

/**
 * RCCs at Calico's etcd v3 key layout. The value is the v3 object as JSON without `resourceVersion`, which
 * is the key's mod revision, exactly as libcalico-go stores it; every write is a transaction comparing that
 * revision, so a stale write fails instead of overwriting.
 */
export function createEtcdRccStore(options: EtcdRccStoreOptions): RccStore {
  const client = new Etcd3(options.etcd);
  const now = options.now ?? (() => new Date());
  let closed = false;

  const read = async (name: string): Promise<StoredRcc | undefined> => {
    const response = await guard(`get RemoteClusterConfiguration "${name}"`, () => client.get(rccEtcdKey(name)).exec());
    const kv = response.kvs[0];
    return kv ? decode(kv, name) : undefined;
  };

  const write = async (
    name: string,
    object: RccObject,
    compare: { modRevision: string } | { absent: true },
  ): Promise<string | undefined> => {
    const key = rccEtcdKey(name);
    const value = JSON.stringify(withoutResourceVersion(object));
    const txn =
      "absent" in compare
        ? client.if(key, "Create", "==", 0)
        : client.if(key, "Mod", "==", Number(compare.modRevision));
    const response = await guard(`write RemoteClusterConfiguration "${name}"`, () =>
      txn.then(client.put(key).value(value)).commit(),
    );
    return response.succeeded ? response.header.revision : undefined;
  };

  return {
    datastoreType: "etcdv3",
    description: "etcd remoteclusterconfigurations",
    keyOf: (item) => item.name,
    versionOf: (item) => item.resourceVersion,
    get: read,

    async list(): Promise<ListResult<StoredRcc>> {
      const response = await guard("list RemoteClusterConfigurations", () =>
        client.getAll().prefix(RCC_ETCD_PREFIX).exec(),
      );
      const items: StoredRcc[] = [];
      for (const kv of response.kvs) {
        const name = rccNameFromEtcdKey(kv.key.toString());
        if (name !== undefined) items.push(decode(kv, name));
      }
      return { items, resourceVersion: response.header.revision };
    },

    async create(rcc) {
      const name = rcc.metadata.name;
      const object: RccObject = {
        ...rcc,
        metadata: { ...rcc.metadata, uid: randomUUID(), creationTimestamp: now().toISOString() },
      };
      const revision = await write(name, object, { absent: true });
      if (revision === undefined) throw new RccConflictError(name, "already exists");
      return stored(object, revision);
    },

    async update(rcc) {
      const name = rcc.metadata.name;
      const wanted = rcc.metadata.resourceVersion;
      for (let attempt = 0; attempt <= MAX_RACE_RETRIES; attempt++) {
        const current = await read(name);
        if (!current) throw new RccNotFoundError(name);
        if (wanted !== undefined && wanted !== current.resourceVersion) throw staleVersion(name, wanted, current);
        // uid and creationTimestamp belong to the stored object, not to the caller.
        const object: RccObject = {
          ...rcc,
          metadata: {
            ...rcc.metadata,
            ...pick(current.object.metadata, ["uid", "creationTimestamp"]),
          },
        };
        const revision = await write(name, object, { modRevision: current.resourceVersion });
        if (revision !== undefined) return stored(object, revision);
        if (wanted !== undefined) {
          throw new RccConflictError(name, `resourceVersion ${wanted} is stale: the object was modified meanwhile`);
        }
      }
      throw new RccConflictError(name, "kept changing while being updated; retry");
    },

    async delete(name, deleteOptions: DeleteRccOptions = {}) {
      const wanted = deleteOptions.resourceVersion;
      const key = rccEtcdKey(name);
      for (let attempt = 0; attempt <= MAX_RACE_RETRIES; attempt++) {
        const current = await read(name);
        if (!current) throw new RccNotFoundError(name);
        if (wanted !== undefined && wanted !== current.resourceVersion) throw staleVersion(name, wanted, current);
        const response = await guard(`delete RemoteClusterConfiguration "${name}"`, () =>
          client.if(key, "Mod", "==", Number(current.resourceVersion)).then(client.delete().key(key)).commit(),
        );
        if (response.succeeded) return current;
        if (wanted !== undefined) {
          throw new RccConflictError(name, `resourceVersion ${wanted} is stale: the object was modified meanwhile`);
        }
      }
      throw new RccConflictError(name, "kept changing while being deleted; retry");
    },

    async watch(resourceVersion, onEvent: (event: WatchEvent<StoredRcc>) => void): Promise<WatchStream> {
      // `watcher()` attaches at once; `create()` would wait for a connection that may never come.
      const watcher = client
        .watch()
        .prefix(RCC_ETCD_PREFIX)
        .startRevision(String(BigInt(resourceVersion) + 1n))
        .watcher();
      watcher.on("put", (kv) => {
        const name = rccNameFromEtcdKey(kv.key.toString());
        if (name !== undefined) onEvent({ type: "upsert", item: decode(kv, name), resourceVersion: kv.mod_revision });
      });
      watcher.on("delete", (kv) => {
        const name = rccNameFromEtcdKey(kv.key.toString());
        if (name !== undefined) onEvent({ type: "delete", key: name, resourceVersion: kv.mod_revision });
      });
      let ended = false;
      const done = new Promise<WatchEnd>((resolve) => {
        watcher.on("end", () => {
          ended = true;
          resolve(undefined);
        });
        watcher.on("error", (error) => {
          ended = true;
          // etcd cancels a watch whose start revision was compacted, with an empty or "compacted" reason.
          const reason = error.message.replace(/^.*Watcher canceled:\s*/, "");
          resolve(
            reason === "" || /compact/i.test(reason)
              ? new ExpiredWatchError(`etcd watch from revision ${resourceVersion} expired (compacted)`, {
                  cause: error,
                })
              : new DatastoreError(`etcd watch of RemoteClusterConfigurations failed: ${error.message}`, {
                  cause: error,
                }),
          );
        });
      });
      let stopping: Promise<void> | undefined;
      return {
        done,
        stop: () => {
          // Cancelling a watch etcd already cancelled would wait forever for an acknowledgement; and a
          // cancel sent on a dying connection may never be answered, hence the bound.
          stopping ??= ended
            ? Promise.resolve()
            : Promise.race([watcher.cancel().catch(() => undefined), unrefDelay(CANCEL_TIMEOUT_MS)]);
          return stopping;
        },
      };
    },

    async [Symbol.asyncDispose]() {
      if (closed) return;
      closed = true;
      client.close();
    },
  };
}

function decode(kv: IKeyValue, name: string): StoredRcc {
  const resourceVersion = kv.mod_revision;
  const empty = (decodeError: string): StoredRcc => ({
    name,
    resourceVersion,
    object: {
      apiVersion: "projectcalico.org/v3",
      kind: "RemoteClusterConfiguration",
      metadata: { name, resourceVersion },
      spec: {},
    },
    decodeError,
  });
  let value: unknown;
  try {
    value = JSON.parse(kv.value.toString());
  } catch (error) {
    return empty(`the stored value is not JSON: ${(error as Error).message}`);
  }
  if (!isRecord(value)) return empty("the stored value is not a JSON object");
  const metadata = isRecord(value.metadata) ? value.metadata : {};
  const spec = isRecord(value.spec) ? value.spec : {};
  const object: RccObject = {
    apiVersion: typeof value.apiVersion === "string" ? value.apiVersion : "projectcalico.org/v3",
    kind: typeof value.kind === "string" ? value.kind : "RemoteClusterConfiguration",
    // The key is the name's source of truth, as in libcalico-go.
    metadata: { ...(metadata as Partial<RccObject["metadata"]>), name, resourceVersion },
    spec,
  };
  return { name, resourceVersion, object };
}

function stored(object: RccObject, resourceVersion: string): StoredRcc {
  const name = object.metadata.name;
  return { name, resourceVersion, object: { ...object, metadata: { ...object.metadata, resourceVersion } } };
}

function withoutResourceVersion(object: RccObject): RccObject {
  const { resourceVersion: _ignored, ...metadata } = object.metadata;
  return { ...object, metadata };
}

function staleVersion(name: string, wanted: string, current: StoredRcc): RccConflictError {
  return new RccConflictError(
    name,
    `resourceVersion ${wanted} is stale (stored: ${current.resourceVersion}); get it again and reapply`,
  );
}

function pick<T extends object, K extends keyof T>(value: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (value[key] !== undefined) out[key] = value[key];
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

async function guard<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new DatastoreError(`etcd: cannot ${what}: ${(error as Error).message}`, { cause: error });
  }
}

function unrefDelay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
