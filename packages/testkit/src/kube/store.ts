import { randomUUID } from "node:crypto";
import type { ResourceDefinition } from "./registry.js";
import {
  alreadyExists,
  conflict,
  invalid,
  type KubeStatusCause,
  KubeStatusError,
  listTooOld,
  notFound,
} from "./status.js";
import type { KubeObject, KubeObjectMeta } from "./types.js";

/** One committed change, kept in the history that watches replay and snapshots undo. */
export interface StoreEvent {
  readonly rv: number;
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly def: ResourceDefinition;
  /** `namespace/name` or `name`: the etcd key below the resource prefix, which fixes list order. */
  readonly key: string;
  /** The object after the change; for DELETED its last state stamped with the deletion's version. */
  readonly object: KubeObject;
  /** The object before the change (MODIFIED, DELETED). */
  readonly prev?: KubeObject;
}

/** Preconditions of a delete, as in DeleteOptions. */
export interface DeletePreconditions {
  resourceVersion?: string;
  uid?: string;
}

/** A list read at one version. */
export interface StoreList {
  resourceVersion: number;
  /** Sorted by key, as etcd returns them. */
  items: KubeObject[];
  keys: string[];
}

/** Reading at a version older than the compaction point. */
export class CompactedVersionError extends Error {
  override name = "CompactedVersionError";
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_KEY_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const SUBDOMAIN_TEXT =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start " +
  "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is " +
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_TEXT =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end " +
  "with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is " +
  "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_TEXT =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start " +
  "and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for " +
  "validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

const META_ORDER = [
  "name",
  "generateName",
  "namespace",
  "selfLink",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "labels",
  "annotations",
  "ownerReferences",
  "finalizers",
  "managedFields",
];

/** True when two JSON values are equal, ignoring object key order. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const ka = Object.keys(ra).filter((k) => ra[k] !== undefined);
  const kb = Object.keys(rb).filter((k) => rb[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(rb, k) && jsonEqual(ra[k], rb[k]));
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Copies JSON, dropping `undefined` so stored objects are exactly what would cross the wire. */
export function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function orderMeta(meta: KubeObjectMeta): KubeObjectMeta {
  const ordered: KubeObjectMeta = {};
  for (const k of META_ORDER) if (meta[k] !== undefined) ordered[k] = meta[k];
  for (const [k, v] of Object.entries(meta)) if (!(k in ordered) && v !== undefined) ordered[k] = v;
  return ordered;
}

/** Puts `kind`/`apiVersion`/`metadata` first, in the order the real encoders write them. */
function orderObject(def: ResourceDefinition, object: KubeObject): KubeObject {
  const { apiVersion: _a, kind: _k, metadata, ...rest } = object;
  const head = def.builtin
    ? { kind: def.kind, apiVersion: def.apiVersion }
    : { apiVersion: def.apiVersion, kind: def.kind };
  return { ...head, metadata: orderMeta(metadata), ...rest };
}

function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function isCoreNamespace(def: ResourceDefinition): boolean {
  return def.group === "" && def.plural === "namespaces";
}

/** `namespace/name` or `name`. */
export function objectKey(def: ResourceDefinition, namespace: string | undefined, name: string): string {
  return def.namespaced ? `${namespace ?? ""}/${name}` : name;
}

/** Everything outside `metadata` (and `status` when it has its own subresource): what `generation` tracks. */
function specOf(def: ResourceDefinition, object: KubeObject): Record<string, unknown> {
  const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = object;
  if (def.statusSubresource) delete rest["status"];
  return rest;
}

export interface ObjectStoreOptions {
  /** Events kept for watches and snapshots; older versions are compacted. */
  historyLimit: number;
  clock: () => Date;
}

/**
 * An etcd-like store: one global revision bumped by every write, a bounded history of events, and reads
 * at any retained revision. Stored objects are frozen JSON; callers copy before handing them out.
 */
export class ObjectStore {
  #rv = 0;
  #compacted = 0;
  #history: StoreEvent[] = [];
  #historyLimit: number;
  readonly #objects = new Map<ResourceDefinition, Map<string, KubeObject>>();
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  readonly #waiters = new Set<{ rv: number; resolve: (ok: boolean) => void; timer: NodeJS.Timeout }>();
  readonly #clock: () => Date;

  constructor(options: ObjectStoreOptions) {
    this.#historyLimit = options.historyLimit;
    this.#clock = options.clock;
  }

  /** The current revision. */
  get resourceVersion(): number {
    return this.#rv;
  }

  /** The newest revision whose history is gone: reads and watches must start at or after it. */
  get compactedVersion(): number {
    return this.#compacted;
  }

  /** Calls `listener` synchronously after every committed change. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get(def: ResourceDefinition, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.#objects.get(def)?.get(objectKey(def, namespace, name));
  }

  /** Stores a new object: stamps uid, resourceVersion, generation 1 and creationTimestamp. */
  create(def: ResourceDefinition, input: KubeObject): KubeObject {
    const name = input.metadata.name ?? "";
    const namespace = def.namespaced ? input.metadata.namespace : undefined;
    this.#validate(def, input, name, namespace);
    const key = objectKey(def, namespace, name);
    const objects = this.#resourceMap(def);
    if (objects.has(key)) throw new KubeStatusError(alreadyExists({ group: def.group, resource: def.plural }, name));
    const rv = this.#rv + 1;
    const {
      uid: _u,
      resourceVersion: _r,
      generation: _g,
      creationTimestamp: _c,
      deletionTimestamp: _d,
      ...meta
    } = input.metadata;
    const object = this.#finish(def, {
      ...input,
      metadata: {
        ...meta,
        ...(namespace !== undefined ? { namespace } : { namespace: undefined }),
        uid: randomUUID(),
        resourceVersion: String(rv),
        generation: 1,
        creationTimestamp: timestamp(this.#clock()),
      },
    });
    this.#commit({ rv, type: "ADDED", def, key, object });
    return object;
  }

  /**
   * Replaces an object. A given `metadata.resourceVersion` must match the stored one (409 Conflict);
   * identity fields are kept; `generation` grows when the spec changes. A no-op write is not committed,
   * as kube-apiserver skips writing identical bytes.
   */
  update(def: ResourceDefinition, input: KubeObject): KubeObject {
    const name = input.metadata.name ?? "";
    const namespace = def.namespaced ? input.metadata.namespace : undefined;
    const key = objectKey(def, namespace, name);
    const objects = this.#resourceMap(def);
    const old = objects.get(key);
    const gr = { group: def.group, resource: def.plural };
    if (old === undefined) throw new KubeStatusError(notFound(gr, name));
    const given = input.metadata.resourceVersion;
    if (given !== undefined && given !== "" && given !== old.metadata.resourceVersion) {
      throw new KubeStatusError(conflict(gr, name));
    }
    this.#validate(def, input, name, namespace);
    const oldGeneration = old.metadata.generation ?? 1;
    const generation = jsonEqual(specOf(def, old), specOf(def, input)) ? oldGeneration : oldGeneration + 1;
    const candidate = (rv: string): KubeObject =>
      this.#finish(def, {
        ...input,
        metadata: {
          ...input.metadata,
          ...(namespace !== undefined ? { namespace } : { namespace: undefined }),
          uid: old.metadata.uid,
          resourceVersion: rv,
          generation,
          creationTimestamp: old.metadata.creationTimestamp,
          deletionTimestamp: old.metadata.deletionTimestamp,
        },
      });
    if (jsonEqual(candidate(old.metadata.resourceVersion ?? ""), old)) return old;
    const rv = this.#rv + 1;
    const object = candidate(String(rv));
    this.#commit({ rv, type: "MODIFIED", def, key, object, prev: old });
    return object;
  }

  /**
   * Deletes an object and returns its last stored state, as etcd's delete does. The DELETED event carries
   * that state stamped with the deletion's version. Deleting a namespace first deletes everything in it.
   */
  delete(
    def: ResourceDefinition,
    namespace: string | undefined,
    name: string,
    preconditions: DeletePreconditions = {},
  ): KubeObject {
    const key = objectKey(def, namespace, name);
    const old = this.#objects.get(def)?.get(key);
    const gr = { group: def.group, resource: def.plural };
    if (old === undefined) throw new KubeStatusError(notFound(gr, name));
    if (preconditions.uid !== undefined && preconditions.uid !== old.metadata.uid) {
      const why = `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${old.metadata.uid}`;
      throw new KubeStatusError(conflict(gr, name, why));
    }
    if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== old.metadata.resourceVersion) {
      const why = `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`;
      throw new KubeStatusError(conflict(gr, name, why));
    }
    if (isCoreNamespace(def)) {
      // The namespace controller empties a deleted namespace; done at once here (no Terminating phase).
      for (const [other, objects] of this.#objects) {
        if (!other.namespaced) continue;
        for (const obj of [...objects.values()]) {
          if (obj.metadata.namespace === name) this.delete(other, name, obj.metadata.name ?? "");
        }
      }
    }
    const rv = this.#rv + 1;
    const object = deepFreeze({ ...old, metadata: { ...old.metadata, resourceVersion: String(rv) } });
    this.#commit({ rv, type: "DELETED", def, key, object, prev: old });
    return old;
  }

  /**
   * Objects of a resource at `atVersion` (default: now), optionally in one namespace, sorted by key.
   * Throws `CompactedVersionError` when that version's history is gone.
   */
  list(def: ResourceDefinition, namespace?: string, atVersion?: number): StoreList {
    const at = atVersion ?? this.#rv;
    const snapshot = this.#snapshot(def, at);
    const keys = [...snapshot.keys()]
      .filter((k) => namespace === undefined || k.startsWith(`${namespace}/`))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return { resourceVersion: at, keys, items: keys.map((k) => snapshot.get(k)!) };
  }

  /** Events after `rv` (exclusive), oldest first. Throws `CompactedVersionError` if some are gone. */
  eventsSince(rv: number): StoreEvent[] {
    if (rv < this.#compacted) throw new CompactedVersionError(`version ${rv} is compacted (${this.#compacted})`);
    const first = this.#history.findIndex((e) => e.rv > rv);
    return first === -1 ? [] : this.#history.slice(first);
  }

  /** Forgets all history: every version before now becomes unreadable, as after an etcd compaction. */
  compact(): void {
    this.#compacted = this.#rv;
    this.#history = [];
  }

  /** Keeps at most `limit` events; older versions are compacted. */
  setHistoryLimit(limit: number): void {
    this.#historyLimit = Math.max(0, Math.floor(limit));
    this.#trim();
  }

  /** Resolves true once the store reaches `rv`, or false after `timeoutMs`. */
  whenAtLeast(rv: number, timeoutMs: number): Promise<boolean> {
    if (this.#rv >= rv) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        rv,
        resolve: (ok: boolean) => {
          clearTimeout(waiter.timer);
          this.#waiters.delete(waiter);
          resolve(ok);
        },
        timer: setTimeout(() => waiter.resolve(false), timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** Releases waiters and listeners; no timer is left behind. */
  close(): void {
    for (const w of [...this.#waiters]) w.resolve(false);
    this.#listeners.clear();
  }

  #resourceMap(def: ResourceDefinition): Map<string, KubeObject> {
    let objects = this.#objects.get(def);
    if (objects === undefined) {
      objects = new Map();
      this.#objects.set(def, objects);
    }
    return objects;
  }

  #snapshot(def: ResourceDefinition, at: number): Map<string, KubeObject> {
    if (at < this.#compacted) throw new CompactedVersionError(`version ${at} is compacted (${this.#compacted})`);
    const snapshot = new Map(this.#objects.get(def) ?? []);
    // Undo, newest first, every change made after `at`.
    for (let i = this.#history.length - 1; i >= 0; i--) {
      const e = this.#history[i]!;
      if (e.rv <= at) break;
      if (e.def !== def) continue;
      if (e.type === "ADDED") snapshot.delete(e.key);
      else snapshot.set(e.key, e.prev!);
    }
    return snapshot;
  }

  #finish(def: ResourceDefinition, object: KubeObject): KubeObject {
    let result = object;
    if (isCoreNamespace(def)) {
      // kube-apiserver always labels a namespace with its own name (since 1.21) and defaults its phase.
      const name = object.metadata.name ?? "";
      const spec = (object["spec"] as Record<string, unknown> | undefined) ?? { finalizers: ["kubernetes"] };
      const status = (object["status"] as Record<string, unknown> | undefined) ?? { phase: "Active" };
      result = {
        ...object,
        metadata: { ...object.metadata, labels: { ...object.metadata.labels, "kubernetes.io/metadata.name": name } },
        spec,
        status,
      };
    }
    return deepFreeze(orderObject(def, cloneJson(result)));
  }

  #commit(event: StoreEvent): void {
    this.#rv = event.rv;
    const objects = this.#resourceMap(event.def);
    if (event.type === "DELETED") objects.delete(event.key);
    else objects.set(event.key, event.object);
    this.#history.push(event);
    this.#trim();
    for (const listener of [...this.#listeners]) listener(event);
    for (const w of [...this.#waiters]) if (this.#rv >= w.rv) w.resolve(true);
  }

  #trim(): void {
    const excess = this.#history.length - this.#historyLimit;
    if (excess <= 0) return;
    const dropped = this.#history.splice(0, excess);
    this.#compacted = Math.max(this.#compacted, dropped[dropped.length - 1]!.rv);
  }

  #validate(def: ResourceDefinition, object: KubeObject, name: string, namespace: string | undefined): void {
    const causes: Required<KubeStatusCause>[] = [];
    if (name === "") {
      causes.push({
        reason: "FieldValueRequired",
        message: "Required value: name or generateName is required",
        field: "metadata.name",
      });
    } else if (
      isCoreNamespace(def)
        ? !DNS1123_LABEL.test(name) || name.length > 63
        : !DNS1123_SUBDOMAIN.test(name) || name.length > 253
    ) {
      causes.push({
        reason: "FieldValueInvalid",
        message: `Invalid value: "${name}": ${isCoreNamespace(def) ? LABEL_TEXT : SUBDOMAIN_TEXT}`,
        field: "metadata.name",
      });
    }
    if (def.namespaced && (namespace === undefined || namespace === "")) {
      causes.push({ reason: "FieldValueRequired", message: "Required value", field: "metadata.namespace" });
    }
    for (const [key, value] of Object.entries(object.metadata.labels ?? {})) {
      const slash = key.lastIndexOf("/");
      const prefix = slash === -1 ? "" : key.slice(0, slash);
      const base = slash === -1 ? key : key.slice(slash + 1);
      if (base.length > 63 || !LABEL_KEY_NAME.test(base) || (prefix !== "" && !DNS1123_SUBDOMAIN.test(prefix))) {
        causes.push({
          reason: "FieldValueInvalid",
          message: `Invalid value: "${key}": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character`,
          field: "metadata.labels",
        });
      }
      if (typeof value !== "string" || value.length > 63 || !LABEL_VALUE.test(value)) {
        causes.push({
          reason: "FieldValueInvalid",
          message: `Invalid value: "${String(value)}": ${LABEL_VALUE_TEXT}`,
          field: "metadata.labels",
        });
      }
    }
    if (causes.length > 0) throw new KubeStatusError(invalid(def.group, def.kind, name, causes));
  }
}

/** Maps a compacted read to the 410 the real server gives for an exact-version list. */
export function listAt(
  store: ObjectStore,
  def: ResourceDefinition,
  namespace: string | undefined,
  at: number,
): StoreList {
  try {
    return store.list(def, namespace, at);
  } catch (err) {
    if (err instanceof CompactedVersionError) throw new KubeStatusError(listTooOld(), { cause: err });
    throw err;
  }
}
