import { KubeStatusError, unprocessablePatch } from "./status.js";

/**
 * The patch formats a PATCH request may carry. Strategic merge patch is applied as a JSON merge patch:
 * that is exact for maps (labels, annotations, spec fields) and differs only for lists with merge keys.
 */

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** RFC 7386 JSON merge patch: objects merge recursively, `null` deletes, anything else replaces. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

interface JsonPatchOperation {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function patchError(message: string): KubeStatusError {
  return new KubeStatusError(unprocessablePatch(message));
}

function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw patchError(`invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

type Container = Record<string, unknown> | unknown[];

function parentOf(doc: unknown, tokens: string[], path: string): { parent: Container; last: string } {
  let current = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isObject(current)) current = current[token];
    else current = undefined;
    if (current === undefined) throw patchError(`path "${path}" does not exist`);
  }
  if (!Array.isArray(current) && !isObject(current)) throw patchError(`path "${path}" does not exist`);
  return { parent: current, last: tokens[tokens.length - 1]! };
}

function arrayIndex(array: unknown[], token: string, path: string, allowEnd: boolean): number {
  if (allowEnd && token === "-") return array.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw patchError(`invalid array index in "${path}"`);
  const index = Number(token);
  if (index > array.length || (!allowEnd && index === array.length))
    throw patchError(`index out of range in "${path}"`);
  return index;
}

function getAt(doc: unknown, path: string): unknown {
  let current = doc;
  for (const token of parsePointer(path)) {
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isObject(current)) current = current[token];
    else current = undefined;
    if (current === undefined) throw patchError(`path "${path}" does not exist`);
  }
  return current;
}

function removeAt(doc: unknown, path: string): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw patchError("cannot remove the whole document");
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, last, path, false);
    return parent.splice(index, 1)[0];
  }
  if (!Object.hasOwn(parent, last)) throw patchError(`path "${path}" does not exist`);
  const value = parent[last];
  delete parent[last];
  return value;
}

function addAt(doc: unknown, path: string, value: unknown, replace: boolean): unknown {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, last, path, !replace);
    if (replace) parent[index] = value;
    else parent.splice(index, 0, value);
  } else {
    if (replace && !Object.hasOwn(parent, last)) throw patchError(`path "${path}" does not exist`);
    parent[last] = value;
  }
  return doc;
}

/** RFC 6902 JSON patch (add, remove, replace, move, copy, test) applied to a copy of `target`. */
export function applyJsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw patchError("a JSON patch must be an array of operations");
  let doc: unknown = structuredClone(target);
  for (const raw of patch) {
    if (!isObject(raw) || typeof raw["op"] !== "string" || typeof raw["path"] !== "string") {
      throw patchError("each JSON patch operation needs string fields op and path");
    }
    const op = raw as unknown as JsonPatchOperation;
    switch (op.op) {
      case "add":
        doc = addAt(doc, op.path, structuredClone(op.value), false);
        break;
      case "replace":
        doc = addAt(doc, op.path, structuredClone(op.value), true);
        break;
      case "remove":
        removeAt(doc, op.path);
        break;
      case "move": {
        const value = removeAt(doc, op.from ?? "");
        doc = addAt(doc, op.path, value, false);
        break;
      }
      case "copy":
        doc = addAt(doc, op.path, structuredClone(getAt(doc, op.from ?? "")), false);
        break;
      case "test":
        if (JSON.stringify(getAt(doc, op.path)) !== JSON.stringify(op.value)) {
          throw patchError(`test operation for path "${op.path}" failed`);
        }
        break;
      default:
        throw patchError(`unknown JSON patch operation "${op.op}"`);
    }
  }
  return doc;
}
