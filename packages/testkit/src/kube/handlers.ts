import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { parse as parseYaml } from "yaml";
import { decodeContinue, encodeContinue } from "./pagination.js";
import { applyJsonPatch, applyMergePatch } from "./patch.js";
import type { ResourceDefinition, ResourceRegistry } from "./registry.js";
import { parseBool, type ResourceRequestInfo } from "./request-info.js";
import { compileSelectors } from "./selectors.js";
import {
  badRequest,
  CONTINUE_EXPIRED_MESSAGE,
  deleteSuccess,
  expired,
  invalid,
  KubeStatusError,
  methodNotSupported,
  notFound,
  pageNotFound,
  tooLargeResourceVersion,
  tooOldResourceVersion,
  unsupportedMediaType,
} from "./status.js";
import { CompactedVersionError, cloneJson, type DeletePreconditions, listAt, type ObjectStore } from "./store.js";
import type { KubeObject, KubeUserInfo } from "./types.js";
import { INITIAL_EVENTS_END_ANNOTATION, type WatchStream, type WatchStreamOptions } from "./watch.js";

/** What the handlers need from the server around them. */
export interface HandlerContext {
  store: ObjectStore;
  registry: ResourceRegistry;
  /** How long a watch without `timeoutSeconds` stays open. */
  watchTimeoutMs: number;
  /** How long a read at a future resourceVersion waits before 504. */
  resourceVersionWaitMs: number;
  /** Opens a watch response; it receives live events once `live` is set. */
  openWatch(options: Omit<WatchStreamOptions, "isHung" | "onClosed" | "currentVersion">): WatchStream;
  /** Headers every response carries (Audit-Id). */
  headers: Record<string, string>;
}

/** A finished non-watch answer. */
export interface Reply {
  status: number;
  body: unknown;
}

/** The request body and its media type, for writes. */
export interface RequestBody {
  contentType: string;
  raw: Buffer;
}

const JSON_PATCH = "application/json-patch+json";
const MERGE_PATCH = "application/merge-patch+json";
const STRATEGIC_PATCH = "application/strategic-merge-patch+json";
const APPLY_PATCH = "application/apply-patch+yaml";
const GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789";

function groupResource(def: ResourceDefinition): { group: string; resource: string } {
  return { group: def.group, resource: def.plural };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The suffix kube-apiserver appends to `generateName`: five characters from its consonant-digit alphabet. */
export function generateNameSuffix(): string {
  return [...randomBytes(5)].map((b) => GENERATE_ALPHABET[b % GENERATE_ALPHABET.length]).join("");
}

function decodeBody(body: RequestBody | undefined, yamlAllowed: boolean): unknown {
  const text = body?.raw.toString("utf8") ?? "";
  if (text.trim() === "") throw new KubeStatusError(badRequest("the request body is empty"));
  try {
    if (body?.contentType === "application/json" || body?.contentType.endsWith("+json") || !yamlAllowed) {
      return JSON.parse(text);
    }
    return parseYaml(text);
  } catch (err) {
    throw new KubeStatusError(badRequest(`the request body could not be decoded: ${(err as Error).message}`), {
      cause: err,
    });
  }
}

function decodeObject(def: ResourceDefinition, body: RequestBody | undefined): KubeObject {
  const type = body?.contentType ?? "";
  if (type !== "application/json" && type !== "application/yaml" && type !== "") {
    throw new KubeStatusError(unsupportedMediaType(["application/json", "application/yaml"]));
  }
  const value = decodeBody(body, true);
  if (!isObject(value)) throw new KubeStatusError(badRequest(`the body is not a ${def.kind} object`));
  if (value["apiVersion"] !== undefined && value["apiVersion"] !== def.apiVersion) {
    throw new KubeStatusError(
      badRequest(
        `the API version in the data (${String(value["apiVersion"])}) does not match the expected API version (${def.apiVersion})`,
      ),
    );
  }
  if (value["kind"] !== undefined && value["kind"] !== def.kind) {
    throw new KubeStatusError(
      badRequest(`${String(value["kind"])} in version "${def.version}" cannot be handled as a ${def.kind}`),
    );
  }
  const metadata = isObject(value["metadata"]) ? value["metadata"] : {};
  return { ...value, metadata } as KubeObject;
}

/** Checks the path's scope against the resource and returns the storage namespace. */
export function scopeOf(def: ResourceDefinition, info: ResourceRequestInfo): string | undefined {
  if (info.subresource !== undefined) {
    if (info.subresource !== "status" || !def.statusSubresource) throw new KubeStatusError(pageNotFound());
    if (!["get", "update", "patch"].includes(info.verb))
      throw new KubeStatusError(methodNotSupported(groupResource(def)));
  }
  if (def.namespaced) {
    if (info.namespacedPath) return info.namespace;
    if (info.name !== undefined) throw new KubeStatusError(pageNotFound());
    if (info.verb !== "list" && info.verb !== "watch")
      throw new KubeStatusError(methodNotSupported(groupResource(def)));
    return undefined;
  }
  if (info.namespacedPath) throw new KubeStatusError(pageNotFound());
  return undefined;
}

function requireNamespaceExists(ctx: HandlerContext, def: ResourceDefinition, namespace: string | undefined): void {
  if (!def.namespaced || namespace === undefined) return;
  const namespaces = ctx.registry.find("", "v1", "namespaces");
  // NamespaceLifecycle admission: writes into a missing namespace are refused with the namespace's 404.
  if (namespaces !== undefined && ctx.store.get(namespaces, undefined, namespace) === undefined) {
    throw new KubeStatusError(notFound({ group: "", resource: "namespaces" }, namespace));
  }
}

function placeInScope(def: ResourceDefinition, object: KubeObject, namespace: string | undefined): void {
  if (def.namespaced) {
    const given = object.metadata.namespace;
    if (given !== undefined && given !== "" && given !== namespace) {
      throw new KubeStatusError(
        badRequest("the namespace of the provided object does not match the namespace sent on the request"),
      );
    }
    object.metadata.namespace = namespace;
  } else {
    delete object.metadata.namespace;
  }
}

function listBody(def: ResourceDefinition, metadata: Record<string, unknown>, items: KubeObject[]): unknown {
  // Typed lists omit each item's kind/apiVersion; custom resource lists keep them.
  const out = def.builtin ? items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest) : items;
  return { kind: `${def.kind}List`, apiVersion: def.apiVersion, metadata, items: out };
}

function parseResourceVersion(raw: string): number {
  if (!/^\d+$/.test(raw)) {
    throw new KubeStatusError(
      invalid("meta.k8s.io", "ListOptions", "", [
        {
          reason: "FieldValueInvalid",
          message: `Invalid value: "${raw}": resourceVersion must be an integer`,
          field: "resourceVersion",
        },
      ]),
    );
  }
  return Number(raw);
}

async function waitForVersion(ctx: HandlerContext, rv: number): Promise<boolean> {
  return rv <= ctx.store.resourceVersion || ctx.store.whenAtLeast(rv, ctx.resourceVersionWaitMs);
}

/** The version a list without `continue` is served at, following the resourceVersion/match rules. */
async function listVersion(ctx: HandlerContext, q: URLSearchParams, hasLimit: boolean): Promise<number> {
  const raw = q.get("resourceVersion") ?? "";
  const match = q.get("resourceVersionMatch") ?? "";
  if (match !== "" && match !== "Exact" && match !== "NotOlderThan") {
    throw new KubeStatusError(badRequest(`resourceVersionMatch: Unsupported value: "${match}"`));
  }
  if (raw === "") {
    if (match !== "") {
      throw new KubeStatusError(badRequest("resourceVersionMatch is forbidden unless resourceVersion is provided"));
    }
    return ctx.store.resourceVersion;
  }
  const rv = parseResourceVersion(raw);
  if (rv === 0) return ctx.store.resourceVersion;
  // A limit with an explicit version and no match is the legacy "exact" list.
  const exact = match === "Exact" || (match === "" && hasLimit);
  if (!(await waitForVersion(ctx, rv))) {
    throw new KubeStatusError(tooLargeResourceVersion(rv, ctx.store.resourceVersion));
  }
  return exact ? rv : ctx.store.resourceVersion;
}

async function list(
  ctx: HandlerContext,
  def: ResourceDefinition,
  namespace: string | undefined,
  q: URLSearchParams,
): Promise<unknown> {
  const { predicate, empty } = compileSelectors(
    def,
    q.get("labelSelector") ?? undefined,
    q.get("fieldSelector") ?? undefined,
  );
  const limitRaw = q.get("limit");
  const limitNumber = limitRaw === null ? Number.NaN : Number(limitRaw);
  const limit = Number.isInteger(limitNumber) && limitNumber > 0 ? limitNumber : undefined;
  const continueRaw = q.get("continue") ?? "";
  let at: number;
  let start = "";
  if (continueRaw !== "") {
    const token = decodeContinue(continueRaw);
    start = token.start;
    if (token.rv === -1) {
      at = ctx.store.resourceVersion;
    } else if (token.rv < ctx.store.compactedVersion) {
      throw new KubeStatusError(expired(CONTINUE_EXPIRED_MESSAGE, encodeContinue({ rv: -1, start })));
    } else {
      at = token.rv;
    }
  } else {
    at = await listVersion(ctx, q, limit !== undefined);
  }
  const listing = listAt(ctx.store, def, namespace, at);
  const { keys, items } = listing;
  let i = 0;
  while (i < keys.length && keys[i]! < start) i++;
  const page: KubeObject[] = [];
  for (; i < keys.length; i++) {
    if (limit !== undefined && page.length >= limit) break;
    if (predicate(items[i]!)) page.push(items[i]!);
  }
  const metadata: Record<string, unknown> = { resourceVersion: String(at) };
  if (limit !== undefined && i < keys.length) {
    metadata["continue"] = encodeContinue({ rv: at, start: `${keys[i - 1]}\u0000` });
    if (empty) metadata["remainingItemCount"] = keys.length - i;
  }
  return listBody(def, metadata, page);
}

async function watch(
  ctx: HandlerContext,
  res: ServerResponse,
  def: ResourceDefinition,
  info: ResourceRequestInfo,
  namespace: string | undefined,
  url: URL,
  user: KubeUserInfo,
): Promise<void> {
  const q = url.searchParams;
  let fieldSelector = q.get("fieldSelector") ?? undefined;
  if (info.name !== undefined) {
    // A watch on a named object is a watch on the collection filtered by name.
    fieldSelector = [fieldSelector, `metadata.name=${info.name}`].filter((s) => s !== undefined && s !== "").join(",");
  }
  const labelSelector = q.get("labelSelector") ?? undefined;
  const { predicate } = compileSelectors(def, labelSelector, fieldSelector);
  const bookmarks = parseBool(q.get("allowWatchBookmarks")) === true;
  const sendInitialEvents = parseBool(q.get("sendInitialEvents"));
  const rvRaw = q.get("resourceVersion") ?? "";
  const requested = rvRaw === "" || rvRaw === "0" ? undefined : parseResourceVersion(rvRaw);
  if (sendInitialEvents === true && (q.get("resourceVersionMatch") !== "NotOlderThan" || !bookmarks)) {
    throw new KubeStatusError(
      invalid("meta.k8s.io", "ListOptions", "", [
        {
          reason: "FieldValueForbidden",
          message:
            "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan and allowWatchBookmarks to true",
          field: "sendInitialEvents",
        },
      ]),
    );
  }
  const timeoutRaw = Number(q.get("timeoutSeconds") ?? "0");
  const durationMs = Number.isFinite(timeoutRaw) && timeoutRaw > 0 ? timeoutRaw * 1000 : ctx.watchTimeoutMs;

  const stream = ctx.openWatch({
    res,
    def,
    ...(namespace !== undefined ? { namespace } : {}),
    predicate,
    bookmarks,
    headers: ctx.headers,
    info: {
      path: url.pathname,
      user: user.name,
      resourceVersion: rvRaw,
      ...(labelSelector !== undefined ? { labelSelector } : {}),
      ...(fieldSelector !== undefined ? { fieldSelector } : {}),
    },
  });
  stream.closeAfter(durationMs);

  // Errors after the stream has started travel as ERROR events, as from the watch cache.
  if (requested !== undefined && !(await waitForVersion(ctx, requested))) {
    stream.fail(tooLargeResourceVersion(requested, ctx.store.resourceVersion));
    return;
  }
  if (stream.closed) return;
  const initial = sendInitialEvents ?? requested === undefined;
  if (initial) {
    const listing = ctx.store.list(def, namespace);
    for (const item of listing.items) stream.initial(item);
    if (sendInitialEvents === true) {
      stream.bookmark(listing.resourceVersion, { [INITIAL_EVENTS_END_ANNOTATION]: "true" });
    }
  } else if (requested !== undefined) {
    let events: ReturnType<ObjectStore["eventsSince"]>;
    try {
      events = ctx.store.eventsSince(requested);
    } catch (err) {
      if (!(err instanceof CompactedVersionError)) throw err;
      stream.fail(tooOldResourceVersion(requested, ctx.store.compactedVersion));
      return;
    }
    for (const event of events) if (stream.accepts(event)) stream.deliver(event);
  }
  // Nothing awaited since the replay above, so no event can fall between it and going live.
  stream.live = true;
}

function mustGet(
  ctx: HandlerContext,
  def: ResourceDefinition,
  namespace: string | undefined,
  name: string,
): KubeObject {
  const object = ctx.store.get(def, namespace, name);
  if (object === undefined) throw new KubeStatusError(notFound(groupResource(def), name));
  return object;
}

/** For kinds with a status subresource: main-resource writes keep the stored status, `/status` writes change only it. */
function applyStatusRules(
  def: ResourceDefinition,
  info: ResourceRequestInfo,
  old: KubeObject,
  next: KubeObject,
): KubeObject {
  if (info.subresource === "status") {
    const { status } = next;
    const result: KubeObject = {
      ...cloneJson(old),
      metadata: { ...cloneJson(old.metadata), resourceVersion: next.metadata.resourceVersion },
    };
    if (status === undefined) delete result["status"];
    else result["status"] = status;
    return result;
  }
  if (!def.statusSubresource) return next;
  const result: KubeObject = { ...next };
  if (old["status"] === undefined) delete result["status"];
  else result["status"] = cloneJson(old["status"]);
  return result;
}

function create(
  ctx: HandlerContext,
  def: ResourceDefinition,
  namespace: string | undefined,
  body: RequestBody | undefined,
): Reply {
  const object = decodeObject(def, body);
  placeInScope(def, object, namespace);
  if ((object.metadata.name ?? "") === "" && object.metadata.generateName) {
    object.metadata.name = `${object.metadata.generateName}${generateNameSuffix()}`;
  }
  requireNamespaceExists(ctx, def, namespace);
  if (def.statusSubresource) {
    // The create strategy owns status: a new pod is Pending, other kinds start without status.
    if (def.group === "" && def.plural === "pods") object["status"] = { phase: "Pending" };
    else delete object["status"];
  }
  return { status: 201, body: ctx.store.create(def, object) };
}

function update(
  ctx: HandlerContext,
  def: ResourceDefinition,
  info: ResourceRequestInfo,
  namespace: string | undefined,
  body: RequestBody | undefined,
): Reply {
  const name = info.name!;
  const object = decodeObject(def, body);
  const given = object.metadata.name;
  if (given !== undefined && given !== "" && given !== name) {
    throw new KubeStatusError(
      badRequest(`the name of the object (${given}) does not match the name on the URL (${name})`),
    );
  }
  object.metadata.name = name;
  placeInScope(def, object, namespace);
  const old = mustGet(ctx, def, namespace, name);
  return { status: 200, body: ctx.store.update(def, applyStatusRules(def, info, old, object)) };
}

function patch(
  ctx: HandlerContext,
  def: ResourceDefinition,
  info: ResourceRequestInfo,
  namespace: string | undefined,
  q: URLSearchParams,
  body: RequestBody | undefined,
): Reply {
  const name = info.name!;
  const type = body?.contentType ?? "";
  const accepted = def.builtin
    ? [JSON_PATCH, MERGE_PATCH, STRATEGIC_PATCH, APPLY_PATCH]
    : [JSON_PATCH, MERGE_PATCH, APPLY_PATCH];
  if (!accepted.includes(type)) throw new KubeStatusError(unsupportedMediaType(accepted));
  if (type === APPLY_PATCH && (q.get("fieldManager") ?? "") === "") {
    throw new KubeStatusError(
      invalid("meta.k8s.io", "PatchOptions", "", [
        { reason: "FieldValueRequired", message: "Required value: is required for apply patch", field: "fieldManager" },
      ]),
    );
  }
  const document = decodeBody(body, type === APPLY_PATCH);
  const old = ctx.store.get(def, namespace, name);
  if (old === undefined) {
    if (type !== APPLY_PATCH) throw new KubeStatusError(notFound(groupResource(def), name));
    // Server-side apply creates what does not exist yet.
    const created = decodeObject(def, { contentType: "application/json", raw: Buffer.from(JSON.stringify(document)) });
    created.metadata.name = name;
    placeInScope(def, created, namespace);
    requireNamespaceExists(ctx, def, namespace);
    return { status: 201, body: ctx.store.create(def, created) };
  }
  const base = cloneJson(old);
  const patched = type === JSON_PATCH ? applyJsonPatch(base, document) : applyMergePatch(base, document);
  if (!isObject(patched) || !isObject(patched["metadata"])) {
    throw new KubeStatusError(badRequest("the patch removed the object's metadata"));
  }
  const next = patched as KubeObject;
  next.metadata.name = name;
  if (def.namespaced) next.metadata.namespace = namespace;
  return { status: 200, body: ctx.store.update(def, applyStatusRules(def, info, old, next)) };
}

function deleteOptions(body: RequestBody | undefined): DeletePreconditions {
  if (body === undefined || body.raw.toString("utf8").trim() === "") return {};
  const value = decodeBody(body, false);
  if (!isObject(value) || !isObject(value["preconditions"])) return {};
  const p = value["preconditions"];
  return {
    ...(typeof p["resourceVersion"] === "string" ? { resourceVersion: p["resourceVersion"] } : {}),
    ...(typeof p["uid"] === "string" ? { uid: p["uid"] } : {}),
  };
}

function remove(
  ctx: HandlerContext,
  def: ResourceDefinition,
  info: ResourceRequestInfo,
  namespace: string | undefined,
  body: RequestBody | undefined,
): Reply {
  const name = info.name!;
  const last = ctx.store.delete(def, namespace, name, deleteOptions(body));
  // Typed kinds answer with the deleted object, custom resources with a Success Status.
  return {
    status: 200,
    body: def.builtin ? last : deleteSuccess(groupResource(def), name, last.metadata.uid),
  };
}

function removeCollection(
  ctx: HandlerContext,
  def: ResourceDefinition,
  namespace: string | undefined,
  q: URLSearchParams,
): Reply {
  const { predicate } = compileSelectors(def, q.get("labelSelector") ?? undefined, q.get("fieldSelector") ?? undefined);
  const deleted = ctx.store
    .list(def, namespace)
    .items.filter(predicate)
    .map((o) => ctx.store.delete(def, namespace ?? o.metadata.namespace, o.metadata.name ?? ""));
  return { status: 200, body: listBody(def, { resourceVersion: String(ctx.store.resourceVersion) }, deleted) };
}

/**
 * Serves one resource request after authentication and authorization. Returns the reply, or undefined
 * when a watch has taken over the response.
 */
export async function handleResourceRequest(
  ctx: HandlerContext,
  res: ServerResponse,
  url: URL,
  info: ResourceRequestInfo,
  def: ResourceDefinition,
  user: KubeUserInfo,
  body: RequestBody | undefined,
): Promise<Reply | undefined> {
  const namespace = scopeOf(def, info);
  const q = url.searchParams;
  switch (info.verb) {
    case "get":
      return { status: 200, body: mustGet(ctx, def, namespace, info.name!) };
    case "list":
      return { status: 200, body: await list(ctx, def, namespace, q) };
    case "watch":
      await watch(ctx, res, def, info, namespace, url, user);
      return undefined;
    case "create":
      if (info.name !== undefined) throw new KubeStatusError(methodNotSupported(groupResource(def)));
      return create(ctx, def, namespace, body);
    case "update":
      return update(ctx, def, info, namespace, body);
    case "patch":
      return patch(ctx, def, info, namespace, q, body);
    case "delete":
      return remove(ctx, def, info, namespace, body);
    case "deletecollection":
      return removeCollection(ctx, def, namespace, q);
    default:
      throw new KubeStatusError(methodNotSupported(groupResource(def)));
  }
}
