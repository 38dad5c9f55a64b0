import type { ValidationIssue } from "@fedview/model";
import { parseAllDocuments } from "yaml";

/** Largest document text `apply` accepts; RCCs are small, and NATS caps a request at 1 MiB anyway. */
export const MAX_DOCUMENT_BYTES = 512 * 1024;

/** YAML aliases allowed per document: enough for hand-written anchors, far too few for a "billion laughs". */
export const MAX_YAML_ALIASES = 20;

/** One object found in the input, with the path that locates it (empty when the input held only it). */
export interface LocatedObject {
  path: string;
  value: unknown;
}

/**
 * Splits `apply` input into objects: YAML or JSON text with one or several documents (`---`), each an
 * object or a `List` (`kind: List` or `…List` with `items`). Never throws; problems come back as issues.
 */
export function parseRccDocuments(text: string): { objects: LocatedObject[]; issues: ValidationIssue[] } {
  const size = Buffer.byteLength(text, "utf8");
  if (size > MAX_DOCUMENT_BYTES) {
    return {
      objects: [],
      issues: [
        {
          path: "documents",
          message: `the input is ${size} bytes, over the limit of ${MAX_DOCUMENT_BYTES}; apply the RemoteClusterConfigurations in several files`,
        },
      ],
    };
  }
  const issues: ValidationIssue[] = [];
  const found: LocatedObject[] = [];
  const documents = parseAllDocuments(text, { uniqueKeys: true });
  documents.forEach((document, index) => {
    const at = `documents[${index}]`;
    const error = document.errors[0];
    if (error !== undefined) {
      const [line, column] = error.linePos?.[0] ? [error.linePos[0].line, error.linePos[0].col] : [];
      const where = line === undefined ? "" : ` (line ${line}, column ${column})`;
      issues.push({ path: at, message: `not valid YAML or JSON${where}: ${error.message.split("\n")[0]}` });
      return;
    }
    let value: unknown;
    try {
      value = document.toJS({ maxAliasCount: MAX_YAML_ALIASES });
    } catch (err) {
      issues.push({ path: at, message: `cannot be read: ${(err as Error).message}` });
      return;
    }
    if (value === null || value === undefined) return;
    found.push(...expandList(value, at));
  });
  if (found.length === 0 && issues.length === 0) {
    issues.push({ path: "documents", message: "no RemoteClusterConfiguration found in the input" });
  }
  return { objects: issues.length === 0 ? locate(found) : found, issues };
}

/** Locates objects given already parsed (`objects` in the request); lists are expanded as in text. */
export function locateObjects(values: unknown[]): LocatedObject[] {
  return locate(values.flatMap((value, index) => expandList(value, `objects[${index}]`)));
}

function expandList(value: unknown, at: string): LocatedObject[] {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const kind = record["kind"];
    if (typeof kind === "string" && kind.endsWith("List") && Array.isArray(record["items"])) {
      return (record["items"] as unknown[]).map((item, i) => ({ path: `${at}.items[${i}]`, value: item }));
    }
  }
  if (Array.isArray(value)) return value.map((item, i) => ({ path: `${at}[${i}]`, value: item }));
  return [{ path: at, value }];
}

/** A lone object needs no location: its issues read `spec.etcdEndpoints`, not `documents[0].spec…`. */
function locate(objects: LocatedObject[]): LocatedObject[] {
  return objects.length === 1 ? [{ path: "", value: objects[0]?.value }] : objects;
}
