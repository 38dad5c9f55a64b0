import {
  configSubject,
  InvalidRequestError,
  openSecrets,
  type SealedSecrets,
  type UnaryEndpoint,
  unaryEndpoint,
} from "@fedview/bus";
import {
  type RemoteClusterConfiguration,
  type ValidationIssue,
  validateRemoteClusterConfiguration,
} from "@fedview/model";
import { z } from "zod";
import { canonicalJson } from "../canonical-json.js";
import { RccConflictError } from "../errors.js";
import { REDACTED } from "../logger.js";
import { type LocatedObject, locateObjects, parseRccDocuments } from "../rcc-documents.js";
import { hideSecretValue } from "../resolver.js";
import type { RccObject, StoredRcc } from "../types.js";
import { counted, type HandlerContext, REDACTED_SPEC_FIELDS, toBusError } from "./context.js";

/**
 * `fedview.v1.config.apply` request: YAML or JSON text (`fedview apply -f file`) holding one or several
 * documents, each an RCC or a `List` of them — or the same as already parsed objects. An RCC may carry
 * `etcdPassword` or `k8sAPIToken`; to keep those off the bus in clear, send the text as `sealed`: the map
 * `{documents: text}` sealed (`sealSecrets`) to the service's curve public key, which the `fedview-config`
 * micro service announces in its metadata as `sealingPublicKey`.
 */
export const ApplyRequestSchema = z
  .object({
    documents: z.string().optional(),
    objects: z.array(z.unknown()).optional(),
    sealed: z.object({ sender: z.string().min(1), data: z.string().min(1) }).optional(),
  })
  .refine((r) => [r.documents, r.objects, r.sealed].filter((v) => v !== undefined).length === 1, {
    message: "give exactly one of documents (YAML or JSON text), objects, or sealed documents",
  });
export type ApplyRequest = z.infer<typeof ApplyRequestSchema>;

/** What happened to one RCC. */
export interface ApplyItemResult {
  name: string;
  result: "created" | "updated" | "unchanged" | "failed";
  /** The version now stored (absent when failed). */
  resourceVersion?: string;
  /** Why the write failed: a 409 for a stale `resourceVersion`, 503 when the datastore is unreachable. */
  error?: { name: string; code: number; message: string };
}

/** One result per RCC, in input order, and the counts. */
export interface ApplyResponse {
  items: ApplyItemResult[];
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
}

interface Prepared {
  name: string;
  object: RccObject;
}

/**
 * `fedview apply -f file.yaml`. Every RCC is validated first; if any is invalid the reply is a 400 with
 * every issue and its field path (`documents[1].spec.etcdEndpoints`), and nothing is written. Otherwise each
 * RCC is created, updated (conditionally when it carries `metadata.resourceVersion`) or left unchanged.
 * A secret field given as `[REDACTED]` (as `get` shows it) keeps the stored value.
 */
export function applyEndpoint(context: HandlerContext): UnaryEndpoint<ApplyRequest, ApplyResponse> {
  return unaryEndpoint({
    subject: configSubject("apply"),
    schema: ApplyRequestSchema,
    handler: (request) =>
      counted(context, "apply", async () => {
        const documents = request.sealed !== undefined ? openDocuments(context, request.sealed) : request.documents;
        return applyRccs(context, documents !== undefined ? { documents } : { objects: request.objects ?? [] });
      }),
  });
}

/** What {@link applyRccs} needs of a handler context: the store, a logger and the validation options. */
export type ApplyContext = Pick<HandlerContext, "store" | "logger" | "validation">;

/**
 * Validates every RCC of `input` (YAML or JSON text, or parsed objects) and, when all are valid, creates,
 * updates or leaves each unchanged, keeping a stored secret where the input gives `[REDACTED]`. Throws
 * {@link InvalidRequestError} with every issue, secret values taken out, when any is invalid: nothing is
 * written then. The `apply` endpoint and `fedview apply` in-process both apply through this.
 */
export async function applyRccs(
  context: ApplyContext,
  input: { documents: string } | { objects: unknown[] },
): Promise<ApplyResponse> {
  const located =
    "documents" in input ? parseRccDocuments(input.documents) : { objects: locateObjects(input.objects), issues: [] };
  const { prepared, issues } = await prepare(context, located.objects, located.issues);
  if (issues.length > 0) {
    context.logger.info(
      { objects: located.objects.length, issues: issues.length },
      "apply refused: the input has invalid RemoteClusterConfigurations; nothing was written",
    );
    throw new InvalidRequestError(summarize(issues), issues);
  }
  const items: ApplyItemResult[] = [];
  for (const item of prepared) items.push(await write(context, item));
  const count = (result: ApplyItemResult["result"]) => items.filter((i) => i.result === result).length;
  return {
    items,
    created: count("created"),
    updated: count("updated"),
    unchanged: count("unchanged"),
    failed: count("failed"),
  };
}

function openDocuments(context: HandlerContext, sealed: SealedSecrets): string {
  let opened: Record<string, string>;
  try {
    if (context.sealingKey === undefined) throw new Error("this service has no sealing key");
    opened = openSecrets(sealed, context.sealingKey);
  } catch (error) {
    throw new InvalidRequestError(
      `cannot open the sealed documents: ${(error as Error).message}; seal them to the sealingPublicKey of the fedview-config service`,
      [{ path: "sealed", message: "cannot be opened with this service's key" }],
    );
  }
  const documents = opened["documents"];
  if (documents === undefined) {
    throw new InvalidRequestError("the sealed map has no documents entry", [
      { path: "sealed", message: "must seal the map {documents: <YAML or JSON text>}" },
    ]);
  }
  return documents;
}

async function prepare(
  context: ApplyContext,
  objects: LocatedObject[],
  parseIssues: ValidationIssue[],
): Promise<{ prepared: Prepared[]; issues: ValidationIssue[] }> {
  const issues = [...parseIssues];
  const prepared: Prepared[] = [];
  const seen = new Map<string, string>();
  for (const { path, value } of objects) {
    const result = validateRemoteClusterConfiguration(value, context.validation);
    if (!result.success) {
      // The reply travels on the bus: a secret value quoted by a validator must not ride along.
      issues.push(...result.issues.map(hideSecretValue).map((i) => ({ path: join(path, i.path), message: i.message })));
      continue;
    }
    const rcc = result.data;
    const name = rcc.metadata.name;
    const first = seen.get(name);
    if (first !== undefined) {
      issues.push({
        path: join(path, "metadata.name"),
        message: `"${name}" is also defined at ${first || "the top"}; each RemoteClusterConfiguration may appear once`,
      });
      continue;
    }
    seen.set(name, path);
    const object = toStoredShape(rcc);
    const placeholders = REDACTED_SPEC_FIELDS.filter((field) => object.spec[field] === REDACTED);
    if (placeholders.length > 0) {
      const current = await context.store.get(name);
      for (const field of placeholders) {
        const kept = current?.object.spec[field];
        if (typeof kept === "string" && kept !== "") {
          object.spec[field] = kept;
        } else {
          issues.push({
            path: join(path, `spec.${field}`),
            message: `is "${REDACTED}", the placeholder get shows for a secret, but no stored value exists to keep; give the real value`,
          });
        }
      }
    }
    prepared.push({ name, object });
  }
  return { prepared, issues };
}

async function write(context: ApplyContext, item: Prepared): Promise<ApplyItemResult> {
  const { name, object } = item;
  const wanted = object.metadata.resourceVersion;
  try {
    const current = await context.store.get(name);
    let stored: StoredRcc;
    let result: ApplyItemResult["result"];
    if (current === undefined) {
      if (wanted !== undefined) {
        throw new RccConflictError(name, `resourceVersion ${wanted} is stale: it no longer exists`);
      }
      stored = await context.store.create(object);
      result = "created";
    } else if (sameContent(current, object)) {
      return { name, result: "unchanged", resourceVersion: current.resourceVersion };
    } else {
      stored = await context.store.update(object);
      result = "updated";
    }
    context.logger.info(
      { rcc: name, result, resourceVersion: stored.resourceVersion },
      "RemoteClusterConfiguration applied",
    );
    return { name, result, resourceVersion: stored.resourceVersion };
  } catch (error) {
    const busError = toBusError(error);
    context.logger.warn({ rcc: name, err: busError }, "RemoteClusterConfiguration not applied");
    return { name, result: "failed", error: { name: busError.name, code: busError.code, message: busError.message } };
  }
}

/** What a store keeps of a validated RCC: identity, labels, annotations, the caller's version, the spec. */
function toStoredShape(rcc: RemoteClusterConfiguration): RccObject {
  const { name, labels, annotations, resourceVersion } = rcc.metadata as RccObject["metadata"];
  return {
    apiVersion: rcc.apiVersion,
    kind: rcc.kind,
    metadata: {
      name,
      ...(labels !== undefined ? { labels } : {}),
      ...(annotations !== undefined ? { annotations } : {}),
      ...(typeof resourceVersion === "string" && resourceVersion !== "" ? { resourceVersion } : {}),
    },
    spec: { ...rcc.spec },
  };
}

/** Equal specs, labels and annotations, once defaults are filled in on both sides. */
function sameContent(current: StoredRcc, next: RccObject): boolean {
  if (current.decodeError !== undefined) return false;
  const validated = validateRemoteClusterConfiguration(current.object);
  const spec = validated.success ? validated.data.spec : current.object.spec;
  const meta = current.object.metadata;
  return (
    canonicalJson(spec) === canonicalJson(next.spec) &&
    canonicalJson(meta.labels ?? {}) === canonicalJson(next.metadata.labels ?? {}) &&
    canonicalJson(meta.annotations ?? {}) === canonicalJson(next.metadata.annotations ?? {})
  );
}

function join(prefix: string, path: string): string {
  if (prefix === "") return path;
  if (path === "") return prefix;
  return path.startsWith("[") ? `${prefix}${path}` : `${prefix}.${path}`;
}

function summarize(issues: ValidationIssue[]): string {
  const shown = issues.slice(0, 3).map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`));
  const more = issues.length > 3 ? `; and ${issues.length - 3} more` : "";
  return `nothing was applied: ${issues.length} problem${issues.length === 1 ? "" : "s"} in the input: ${shown.join("; ")}${more}`;
}
