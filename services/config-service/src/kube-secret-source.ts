import { CoreV1Api, type KubeConfig } from "@kubernetes/client-node";
import type { Delay } from "./backoff.js";
import { DatastoreError } from "./errors.js";
import { kubeErrorMessage, kubeStatusCode } from "./kube-client.js";
import { type KubeWatchObject, watchKubePath } from "./kube-watch.js";
import { type ListWatch, type ListWatchSource, type ListWatchStatus, startListWatch } from "./list-watch.js";

/** A Secret by namespace and name. */
export interface SecretRef {
  namespace: string;
  name: string;
}

/** Reads the Secrets referenced by `clusterAccessSecret`, and tells when they change. */
export interface SecretSource extends AsyncDisposable {
  /**
   * The Secret's data, base64-decoded, or `undefined` when it does not exist. Throws `DatastoreError` when
   * it cannot be read (forbidden, API unreachable), with the API server's reason.
   */
  read(ref: SecretRef): Promise<Record<string, string> | undefined>;
  /** Calls `onChange` when the Secret is created, changed or deleted. Dispose the result to stop. */
  watch(ref: SecretRef, onChange: () => void): Disposable;
  /** One list-watch status per watched Secret, by `namespace/name`. */
  status(): Record<string, ListWatchStatus>;
}

export interface KubeSecretSourceOptions {
  kubeConfig: KubeConfig;
  delay?: Delay;
  /** Told about every list or watch failure; the watch carries on. */
  onError?: (error: unknown, source: string) => void;
}

interface SecretVersion {
  name: string;
  resourceVersion: string;
}

/**
 * Secrets through the core v1 API. Each referenced Secret is watched on its own with a
 * `metadata.name` field selector, so no other Secret of the namespace is ever transferred.
 */
export function createKubeSecretSource(options: KubeSecretSourceOptions): SecretSource {
  const api = options.kubeConfig.makeApiClient(CoreV1Api);
  const watches = new Map<string, { listeners: Set<() => void>; listWatch: ListWatch<SecretVersion> }>();

  const sourceFor = (ref: SecretRef): ListWatchSource<SecretVersion> => {
    const fieldSelector = `metadata.name=${ref.name}`;
    const path = `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/secrets`;
    const version = (object: KubeWatchObject): SecretVersion => ({
      name: object.metadata?.name ?? "",
      resourceVersion: object.metadata?.resourceVersion ?? "",
    });
    return {
      description: `Secret ${ref.namespace}/${ref.name}`,
      keyOf: (item) => item.name,
      versionOf: (item) => item.resourceVersion,
      async list() {
        try {
          const list = await api.listNamespacedSecret({ namespace: ref.namespace, fieldSelector });
          return {
            items: list.items.map((secret) => version(secret as KubeWatchObject)),
            resourceVersion: list.metadata?.resourceVersion ?? "",
          };
        } catch (error) {
          throw new DatastoreError(
            `cannot list Secret ${ref.namespace}/${ref.name}: ${kubeErrorMessage(error)}; the service account needs get, list and watch on secrets in ${ref.namespace}`,
            { cause: error },
          );
        }
      },
      async watch(resourceVersion, onEvent) {
        return watchKubePath(
          options.kubeConfig,
          path,
          resourceVersion,
          (change) => {
            if (change.type === "bookmark") {
              onEvent({ type: "bookmark", resourceVersion: change.version });
              return;
            }
            const item = version(change.object);
            if (change.type === "upsert") onEvent({ type: "upsert", item, resourceVersion: item.resourceVersion });
            else onEvent({ type: "delete", key: item.name, resourceVersion: item.resourceVersion });
          },
          { fieldSelector },
        );
      },
    };
  };

  return {
    async read(ref) {
      try {
        const secret = await api.readNamespacedSecret({ namespace: ref.namespace, name: ref.name });
        const data: Record<string, string> = {};
        for (const [key, value] of Object.entries(secret.data ?? {})) {
          data[key] = Buffer.from(value, "base64").toString("utf8");
        }
        return data;
      } catch (error) {
        if (kubeStatusCode(error) === 404) return undefined;
        throw new DatastoreError(`cannot read Secret ${ref.namespace}/${ref.name}: ${kubeErrorMessage(error)}`, {
          cause: error,
        });
      }
    },

    watch(ref, onChange) {
      const key = `${ref.namespace}/${ref.name}`;
      let entry = watches.get(key);
      if (!entry) {
        const listeners = new Set<() => void>();
        const notify = () => {
          for (const listener of [...listeners]) listener();
        };
        const listWatch = startListWatch(
          sourceFor(ref),
          { onUpsert: notify, onDelete: notify },
          {
            ...(options.delay ? { delay: options.delay } : {}),
            ...(options.onError ? { onError: options.onError } : {}),
          },
        );
        entry = { listeners, listWatch };
        watches.set(key, entry);
      }
      const current = entry;
      const listener = () => onChange();
      current.listeners.add(listener);
      return {
        [Symbol.dispose]() {
          current.listeners.delete(listener);
          if (current.listeners.size > 0 || watches.get(key) !== current) return;
          watches.delete(key);
          void current.listWatch[Symbol.asyncDispose]();
        },
      };
    },

    status() {
      return Object.fromEntries([...watches].map(([key, entry]) => [key, entry.listWatch.status()]));
    },

    async [Symbol.asyncDispose]() {
      const all = [...watches.values()];
      watches.clear();
      await Promise.all(all.map((entry) => entry.listWatch[Symbol.asyncDispose]()));
    },
  };
}
