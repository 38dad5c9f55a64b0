/**
 * The exact comparison every chaos scenario ends with: the query service's view (its `inventory`)
 * against the ground truth read directly from the remote datastores and converted with
 * `@fedview/model`'s remote conversion — same resources, same revisions: 0 lost, 0 stale, 0 extra.
 */
import { type BusConnection, EncodeError, encodeResourceEvent, querySubject, requestService } from "@fedview/bus";
import {
  type CalicoResource,
  decodeEtcdResource,
  ETCD_RESOURCE_PREFIX,
  hostEndpointFromCrd,
  NamespaceSchema,
  namespaceToProfile,
  PodSchema,
  parseEtcdKey,
  podToWorkloadEndpoint,
  resourceId,
  resourceKindInfo,
  resourceRef,
  ServiceAccountSchema,
  serviceAccountToProfile,
  toFederated,
} from "@fedview/model";
import type { InventoryItem, InventoryResult, QueryAnswer } from "@fedview/query-service";
import type { KubeApiServer } from "@fedview/testkit";
import { waitFor } from "@fedview/testkit";
import type { Etcd3 } from "etcd3";

/** One resource of the merged view and the source revision it must be held at. */
export interface Versioned {
  cluster: string;
  kind: string;
  id: string;
  revision: string;
}

/** Where the view and the truth differ. */
export interface ViewDiff {
  /** In the datastore, not in the view. */
  lost: Versioned[];
  /** In both, at another revision. */
  stale: { truth: Versioned; view: Versioned }[];
  /** In the view, not in the datastore. */
  extra: Versioned[];
}

/** The kinds a remote cluster contributes (calico.md §1). */
const REMOTE_PLURALS = ["workloadendpoints", "hostendpoints", "profiles"].map(
  (plural) => `${ETCD_RESOURCE_PREFIX}${plural}/`,
);

function federated(cluster: string, resource: CalicoResource, revision: string): Versioned | undefined {
  const converted = toFederated(cluster, resource);
  if (converted === null) return undefined;
  const item = { cluster, kind: converted.kind, id: resourceId(resourceRef(converted)), revision };
  // A resource no bus message can carry (over NATS's payload limit) cannot be in the view: the
  // connector skips it and says so. It is not part of the truth either.
  try {
    encodeResourceEvent({ v: 1, op: "upsert", ...item, generation: 0, resource: converted });
  } catch (err) {
    if (err instanceof EncodeError) return undefined;
    throw err;
  }
  return item;
}

/**
 * What a remote etcd holds for `cluster`, as the merged view must show it: a range read of Calico's
 * WorkloadEndpoint, HostEndpoint and Profile prefixes, each value decoded and federated by the model,
 * at its key's mod revision. Values the model refuses and endpoints without addresses are not part of
 * the view, so not of the truth either.
 */
export async function etcdTruth(client: Etcd3, cluster: string): Promise<Versioned[]> {
  const out: Versioned[] = [];
  for (const prefix of REMOTE_PLURALS) {
    const response = await client.getAll().prefix(prefix).exec();
    for (const kv of response.kvs) {
      const key = kv.key.toString();
      if (parseEtcdKey(key) === null) continue;
      const decoded = decodeEtcdResource(key, kv.value, kv.mod_revision);
      if (!decoded.success) continue;
      const item = federated(cluster, decoded.data, kv.mod_revision);
      if (item !== undefined) out.push(item);
    }
  }
  return out;
}

/**
 * What a Kubernetes remote holds for `cluster`, read from the test API server's own store: pods,
 * namespaces and service accounts through the model's KDD conversion, host endpoints from their CRD,
 * each at its object's resourceVersion.
 */
export function kubeTruth(server: KubeApiServer, cluster: string): Versioned[] {
  const out: Versioned[] = [];
  const push = (resource: CalicoResource | null, revision: string | undefined) => {
    if (resource === null || revision === undefined) return;
    const item = federated(cluster, resource, revision);
    if (item !== undefined) out.push(item);
  };
  for (const object of server.list("pods")) {
    const pod = PodSchema.safeParse(object);
    if (!pod.success) continue;
    try {
      push(podToWorkloadEndpoint(pod.data), object.metadata.resourceVersion);
    } catch {
      // An unparsable pod IP: Calico refuses the pod, so it is no endpoint.
    }
  }
  for (const object of server.list("namespaces")) {
    const ns = NamespaceSchema.safeParse(object);
    if (ns.success) push(namespaceToProfile(ns.data), object.metadata.resourceVersion);
  }
  for (const object of server.list("serviceaccounts")) {
    const sa = ServiceAccountSchema.safeParse(object);
    if (sa.success) push(serviceAccountToProfile(sa.data), object.metadata.resourceVersion);
  }
  for (const object of server.list({ group: "crd.projectcalico.org", plural: "hostendpoints" })) {
    const hep = hostEndpointFromCrd(object);
    if (hep.success && resourceKindInfo.HostEndpoint.schema.safeParse(hep.data).success) {
      push(hep.data, object.metadata.resourceVersion);
    }
  }
  return out;
}

/** Every item of the query service's view (all pages), optionally of one cluster. */
export async function readView(nc: BusConnection, cluster?: string): Promise<InventoryItem[]> {
  const items: InventoryItem[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await requestService<QueryAnswer<InventoryResult>>(
      nc,
      querySubject("inventory"),
      { ...(cluster === undefined ? {} : { cluster }), ...(after === undefined ? {} : { after }) },
      { timeoutMs: 5000 },
    );
    items.push(...page.result.items);
    if (page.result.next === undefined) return items;
    after = page.result.next;
  }
}

const keyOf = (v: Versioned) => `${v.cluster} ${v.kind} ${v.id}`;

/** Compares the view with the truth, resource by resource and revision by revision. */
export function diffView(truth: readonly Versioned[], view: readonly Versioned[]): ViewDiff {
  const held = new Map(view.map((v) => [keyOf(v), v]));
  const diff: ViewDiff = { lost: [], stale: [], extra: [] };
  for (const t of truth) {
    const v = held.get(keyOf(t));
    held.delete(keyOf(t));
    if (v === undefined) diff.lost.push(t);
    else if (v.revision !== t.revision) diff.stale.push({ truth: t, view: v });
  }
  diff.extra.push(...held.values());
  return diff;
}

/** `0 lost, 0 stale, 0 extra (of 123)` or the counts with a few examples of each. */
export function describeDiff(diff: ViewDiff, total: number): string {
  const sample = (items: unknown[]) => (items.length === 0 ? "" : ` e.g. ${JSON.stringify(items.slice(0, 3))}`);
  return [
    `${diff.lost.length} lost${sample(diff.lost)}`,
    `${diff.stale.length} stale${sample(diff.stale)}`,
    `${diff.extra.length} extra${sample(diff.extra)} (of ${total} in the truth)`,
  ].join(", ");
}

/** A source of truth: the resources of the clusters under test. */
export type Truth = () => Promise<Versioned[]> | Versioned[];

/**
 * Waits until the view equals the truth exactly, within `timeoutMs`, reading both again on each try.
 * Only the clusters the truth is about are compared (`clusters`); a truth smaller than `atLeast`
 * (default 1) is an error, not a match. Returns the number of resources.
 */
export async function expectExactView(
  nc: BusConnection,
  truth: Truth,
  options: { clusters: readonly string[]; timeoutMs: number; what?: string; atLeast?: number },
): Promise<number> {
  const atLeast = options.atLeast ?? 1;
  if (options.timeoutMs <= 0) {
    throw new Error(
      `${options.what ?? "the view"}: the time allowed to converge was used up before it could be checked`,
    );
  }
  let last = "never compared";
  try {
    return await waitFor(
      async () => {
        const expected = await truth();
        const views = await Promise.all(options.clusters.map((c) => readView(nc, c)));
        const diff = diffView(expected, views.flat());
        last = describeDiff(diff, expected.length);
        // An empty truth equals an empty view: a broken reader must not pass for a converged one.
        if (expected.length < atLeast)
          throw new Error(`the truth holds ${expected.length} resources, expected ${atLeast}+`);
        return diff.lost.length + diff.stale.length + diff.extra.length === 0 ? expected.length : undefined;
      },
      { timeout: options.timeoutMs, interval: 100, message: options.what ?? "the view to equal the truth" },
    );
  } catch (err) {
    throw new Error(`${options.what ?? "the view"} did not converge within ${options.timeoutMs} ms: ${last}`, {
      cause: err,
    });
  }
}
