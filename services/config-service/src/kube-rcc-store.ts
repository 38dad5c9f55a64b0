import {
  CALICO_API_VERSION,
  type CalicoResource,
  fromCrdResource,
  REMOTE_CLUSTER_CONFIGURATION_KIND,
  toCrdResource,
} from "@fedview/model";
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { DatastoreError, RccConflictError, RccNotFoundError } from "./errors.js";
import { kubeErrorMessage, kubeStatusCode } from "./kube-client.js";
import { type KubeWatchObject, watchKubePath } from "./kube-watch.js";
import type { ListResult, WatchEvent, WatchStream } from "./list-watch.js";
import type { DeleteRccOptions, RccObject, RccStore, StoredRcc } from "./types.js";

/** The RemoteClusterConfiguration custom resource of a Kubernetes datastore (cluster-scoped). */
export const RCC_CRD = {
  group: "crd.projectcalico.org",
  version: "v1",
  plural: "remoteclusterconfigurations",
} as const;

const RCC_CRD_PATH = `/apis/${RCC_CRD.group}/${RCC_CRD.version}/${RCC_CRD.plural}`;

/** Unconditional updates and deletes retry this many times when another writer keeps winning the race. */
const MAX_RACE_RETRIES = 5;

export interface KubeRccStoreOptions {
  /** The local cluster's client configuration (see `createKubeConfig`). */
  kubeConfig: KubeConfig;
}

/**
 * RCCs as `remoteclusterconfigurations.crd.projectcalico.org/v1` objects, converted to and from the v3 shape
 * as Calico's Kubernetes backend does. Writes carry `resourceVersion`, so the API server refuses stale ones
 * with 409, which becomes `RccConflictError`.
 */
export function createKubeRccStore(options: KubeRccStoreOptions): RccStore {
  const config = options.kubeConfig;
  const api = config.makeApiClient(CustomObjectsApi);

  const call = async <T>(what: string, name: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      const code = kubeStatusCode(error);
      if (code === 404) throw new RccNotFoundError(name, { cause: error });
      if (code === 409) throw new RccConflictError(name, kubeErrorMessage(error), { cause: error });
      throw new DatastoreError(`Kubernetes API: cannot ${what}: ${kubeErrorMessage(error)}`, { cause: error });
    }
  };

  const read = async (name: string): Promise<StoredRcc | undefined> => {
    try {
      const object = await call(`get RemoteClusterConfiguration "${name}"`, name, () =>
        api.getClusterCustomObject({ ...RCC_CRD, name }),
      );
      return fromCrd(object as KubeWatchObject);
    } catch (error) {
      if (error instanceof RccNotFoundError) return undefined;
      throw error;
    }
  };

  const replace = async (rcc: RccObject, resourceVersion: string): Promise<StoredRcc> => {
    const name = rcc.metadata.name;
    const body = toCrd(rcc, resourceVersion);
    const written = await call(`update RemoteClusterConfiguration "${name}"`, name, () =>
      api.replaceClusterCustomObject({ ...RCC_CRD, name, body }),
    );
    return fromCrd(written as KubeWatchObject);
  };

  return {
    datastoreType: "kubernetes",
    description: "kubernetes remoteclusterconfigurations",
    keyOf: (item) => item.name,
    versionOf: (item) => item.resourceVersion,
    get: read,

    async list(): Promise<ListResult<StoredRcc>> {
      const response = (await call("list RemoteClusterConfigurations", "", () =>
        api.listClusterCustomObject({ ...RCC_CRD }),
      )) as { items?: KubeWatchObject[]; metadata?: { resourceVersion?: string } };
      return {
        items: (response.items ?? []).map(fromCrd),
        resourceVersion: response.metadata?.resourceVersion ?? "",
      };
    },

    async create(rcc) {
      const name = rcc.metadata.name;
      try {
        const created = await call(`create RemoteClusterConfiguration "${name}"`, name, () =>
          api.createClusterCustomObject({ ...RCC_CRD, body: toCrd(rcc, undefined) }),
        );
        return fromCrd(created as KubeWatchObject);
      } catch (error) {
        if (error instanceof RccConflictError) throw new RccConflictError(name, "already exists", { cause: error });
        throw error;
      }
    },

    async update(rcc) {
      const name = rcc.metadata.name;
      const wanted = rcc.metadata.resourceVersion;
      if (wanted !== undefined) {
        try {
          return await replace(rcc, wanted);
        } catch (error) {
          if (error instanceof RccConflictError) {
            throw new RccConflictError(name, `resourceVersion ${wanted} is stale; get it again and reapply`, {
              cause: error,
            });
          }
          throw error;
        }
      }
      for (let attempt = 0; attempt <= MAX_RACE_RETRIES; attempt++) {
        const current = await read(name);
        if (!current) throw new RccNotFoundError(name);
        try {
          return await replace(rcc, current.resourceVersion);
        } catch (error) {
          if (!(error instanceof RccConflictError)) throw error;
        }
      }
      throw new RccConflictError(name, "kept changing while being updated; retry");
    },

    async delete(name, deleteOptions: DeleteRccOptions = {}) {
      const wanted = deleteOptions.resourceVersion;
      for (let attempt = 0; attempt <= MAX_RACE_RETRIES; attempt++) {
        const current = await read(name);
        if (!current) throw new RccNotFoundError(name);
        const version = wanted ?? current.resourceVersion;
        try {
          await call(`delete RemoteClusterConfiguration "${name}"`, name, () =>
            api.deleteClusterCustomObject({ ...RCC_CRD, name, body: { preconditions: { resourceVersion: version } } }),
          );
          return current;
        } catch (error) {
          if (!(error instanceof RccConflictError)) throw error;
          if (wanted !== undefined) {
            throw new RccConflictError(name, `resourceVersion ${wanted} is stale; get it again and retry`, {
              cause: error,
            });
          }
        }
      }
      throw new RccConflictError(name, "kept changing while being deleted; retry");
    },

    async watch(resourceVersion, onEvent: (event: WatchEvent<StoredRcc>) => void): Promise<WatchStream> {
      return watchKubePath(config, RCC_CRD_PATH, resourceVersion, (change) => {
        if (change.type === "bookmark") {
          onEvent({ type: "bookmark", resourceVersion: change.version });
          return;
        }
        const item = fromCrd(change.object);
        if (item.name === "") return;
        if (change.type === "upsert") onEvent({ type: "upsert", item, resourceVersion: item.resourceVersion });
        else onEvent({ type: "delete", key: item.name, resourceVersion: item.resourceVersion });
      });
    },

    async [Symbol.asyncDispose]() {
      // The client keeps no connections open between calls; watches are stopped by their owners.
    },
  };
}

/** The custom resource for an RCC; `resourceVersion` only where the write must be conditional. */
function toCrd(rcc: RccObject, resourceVersion: string | undefined): Record<string, unknown> {
  const { uid: _uid, creationTimestamp: _created, resourceVersion: _version, ...metadata } = rcc.metadata;
  const crd = toCrdResource({
    ...rcc,
    apiVersion: CALICO_API_VERSION,
    kind: REMOTE_CLUSTER_CONFIGURATION_KIND,
    metadata,
  } as unknown as CalicoResource);
  const crdMetadata = crd["metadata"] as Record<string, unknown>;
  return {
    ...crd,
    metadata: resourceVersion === undefined ? crdMetadata : { ...crdMetadata, resourceVersion },
  };
}

/** The v3 RCC of a custom resource; a malformed one keeps its spec for validation to report on. */
function fromCrd(object: KubeWatchObject): StoredRcc {
  const name = object.metadata?.name ?? "";
  const resourceVersion = object.metadata?.resourceVersion ?? "";
  const converted = fromCrdResource(object);
  if (converted.success) {
    const v3 = converted.data as unknown as RccObject;
    return { name, resourceVersion, object: { ...v3, metadata: { ...v3.metadata, name, resourceVersion } } };
  }
  const meta = (object.metadata ?? {}) as Record<string, unknown>;
  const spec = object["spec"];
  return {
    name,
    resourceVersion,
    object: {
      apiVersion: CALICO_API_VERSION,
      kind: REMOTE_CLUSTER_CONFIGURATION_KIND,
      metadata: {
        name,
        resourceVersion,
        ...(typeof meta["uid"] === "string" ? { uid: meta["uid"] } : {}),
        ...(typeof meta["creationTimestamp"] === "string" ? { creationTimestamp: meta["creationTimestamp"] } : {}),
      },
      spec: typeof spec === "object" && spec !== null && !Array.isArray(spec) ? (spec as Record<string, unknown>) : {},
    },
  };
}
