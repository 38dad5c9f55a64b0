/**
 * Typed, versioned envelopes: JSON on the wire, validated with zod on decode (and on encode, so a bad
 * message never leaves the sender). Decoders throw {@link DecodeError}; the readers and subscriptions in
 * this package catch it, count it in {@link BusMetrics} and skip the message.
 */
import { z } from "zod";
import { DecodeError, EncodeError } from "./errors.js";
import {
  isClusterToken,
  isKindToken,
  parseConnectionKey,
  parseResourceSubject,
  parseStatusSubject,
  resourceSubject,
} from "./subjects.js";
import type {
  CalicoResource,
  ClusterStatusMessage,
  ConnectionConfig,
  Issue,
  LeaseRecord,
  MessageKind,
  ResourceEvent,
  SealedSecrets,
} from "./types.js";
import { CLUSTER_STATUSES, DATASTORE_TYPES, ENVELOPE_VERSION, SECRET_FIELDS } from "./types.js";

/** NATS's default `max_payload`; envelopes are kept well below it (large listings are many messages). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

const clusterSchema = z.string().refine(isClusterToken, {
  message: "must be a cluster name (lower-case alphanumerics and '-') or '_local'",
});
const kindSchema = z.string().refine(isKindToken, { message: "must be a Calico kind name" });
const revisionSchema = z.string().min(1).max(256);
const generationSchema = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const isoTimeSchema = z.iso.datetime({ offset: true });

/** The resource check the bus does: an object with `apiVersion`, `kind` and `metadata.name`. */
export const calicoResourceSchema: z.ZodType<CalicoResource> = z.looseObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().min(1).optional() }),
});

const resourceBase = {
  v: z.literal(ENVELOPE_VERSION),
  cluster: clusterSchema,
  kind: kindSchema,
  id: z.string(),
  revision: revisionSchema,
  generation: generationSchema,
};

/** Schema of a resource event envelope. */
export const resourceEventSchema: z.ZodType<ResourceEvent> = z
  .discriminatedUnion("op", [
    z.object({ ...resourceBase, op: z.literal("upsert"), resource: calicoResourceSchema }),
    z.object({ ...resourceBase, op: z.literal("delete") }),
  ])
  .superRefine((event, ctx) => {
    if (event.op === "upsert" && event.resource.kind !== event.kind) {
      ctx.addIssue({
        code: "custom",
        path: ["resource", "kind"],
        message: `must equal the event kind "${event.kind}"`,
      });
    }
  });

const clusterStatusSchema = z.object({
  v: z.literal(ENVELOPE_VERSION),
  op: z.literal("upsert"),
  cluster: clusterSchema,
  status: z.enum(CLUSTER_STATUSES),
  error: z.string().optional(),
  since: isoTimeSchema,
  generation: generationSchema,
  counts: z.record(z.string(), z.number().int().nonnegative()),
  stale: z.boolean(),
  staleSince: isoTimeSchema.optional(),
  lastSync: isoTimeSchema.optional(),
  expiresAt: isoTimeSchema.optional(),
});

/** Schema of a cluster status message (a status or its removal). */
export const clusterStatusMessageSchema: z.ZodType<ClusterStatusMessage> = z.discriminatedUnion("op", [
  clusterStatusSchema,
  z.object({
    v: z.literal(ENVELOPE_VERSION),
    op: z.literal("delete"),
    cluster: clusterSchema,
    generation: generationSchema,
    since: isoTimeSchema,
  }),
]);

/** Schema of sealed secrets. */
export const sealedSecretsSchema: z.ZodType<SealedSecrets> = z.object({
  sender: z.string().regex(/^X[A-Z2-7]{55}$/, "must be a curve (xkey) public key"),
  data: z.base64().min(1),
});

const connectionSpecSchema = z
  .looseObject({
    etcdEndpoints: z.array(z.string().min(1)).optional(),
    etcdCACert: z.string().optional(),
    etcdCert: z.string().optional(),
    k8sAPIEndpoint: z.string().optional(),
    k8sCACert: z.string().optional(),
    k8sCert: z.string().optional(),
    k8sInsecureSkipTLSVerify: z.boolean().optional(),
    overlayRoutingMode: z.enum(["Enabled", "Disabled"]).optional(),
  })
  .catchall(z.json())
  .superRefine((spec, ctx) => {
    for (const field of SECRET_FIELDS) {
      if (field in spec) {
        ctx.addIssue({
          code: "custom",
          path: [field],
          message: "is a secret and belongs in 'sealed', not in the spec",
        });
      }
    }
  });

/** Schema of a connection config envelope. */
export const connectionConfigSchema: z.ZodType<ConnectionConfig> = z
  .object({
    v: z.literal(ENVELOPE_VERSION),
    cluster: clusterSchema,
    datastoreType: z.enum(DATASTORE_TYPES),
    generation: generationSchema,
    status: z.enum(["valid", "invalid"]),
    error: z.string().optional(),
    spec: connectionSpecSchema,
    sealed: sealedSecretsSchema.optional(),
  })
  .superRefine((config, ctx) => {
    if (config.status === "invalid" && !config.error) {
      ctx.addIssue({ code: "custom", path: ["error"], message: "is required when status is 'invalid'" });
    }
  });

/** Schema of a lease record. */
export const leaseRecordSchema: z.ZodType<LeaseRecord> = z.object({
  v: z.literal(ENVELOPE_VERSION),
  holder: z.string().min(1),
  acquiredAt: isoTimeSchema,
  renewedAt: isoTimeSchema,
});

/** Converts zod issues into the bus's `{path, message}` form. */
export function toIssues(error: z.ZodError): Issue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message }));
}

function describe(issues: Issue[]): string {
  return issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; ");
}

/** Serialises `value` to UTF-8 JSON after validating it with `schema`; throws {@link EncodeError}. */
export function encodeJson<T>(schema: z.ZodType<T>, value: T, kind: MessageKind): Uint8Array {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    throw new EncodeError(`invalid ${kind} message: ${describe(issues)}`, kind, issues);
  }
  const bytes = utf8Encoder.encode(JSON.stringify(parsed.data));
  if (bytes.length > MAX_MESSAGE_BYTES) {
    throw new EncodeError(`${kind} message is ${bytes.length} bytes, over the ${MAX_MESSAGE_BYTES}-byte limit`, kind);
  }
  return bytes;
}

/** Parses UTF-8 JSON and validates it with `schema`; throws {@link DecodeError}. */
export function decodeJson<T>(schema: z.ZodType<T>, data: Uint8Array, kind: MessageKind, subject?: string): T {
  let raw: unknown;
  try {
    raw = JSON.parse(utf8Decoder.decode(data));
  } catch (err) {
    throw new DecodeError(`${kind} message is not UTF-8 JSON`, { kind, subject, cause: err });
  }
  if (ENVELOPE_KINDS.has(kind) && isEnvelope(raw) && raw.v !== ENVELOPE_VERSION) {
    throw new DecodeError(
      `${kind} message has envelope version ${String(raw.v)}; this reader knows ${ENVELOPE_VERSION}`,
      {
        kind,
        subject,
        issues: [{ path: "v", message: `unsupported version ${String(raw.v)}` }],
      },
    );
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    throw new DecodeError(`invalid ${kind} message: ${describe(issues)}`, {
      kind,
      subject,
      issues,
      cause: parsed.error,
    });
  }
  return parsed.data;
}

// Envelopes carry `v`; request and response bodies are plain JSON whose `v` (if any) means something else.
const ENVELOPE_KINDS = new Set<MessageKind>(["resource", "status", "connection", "lease"]);

function isEnvelope(raw: unknown): raw is { v: unknown } {
  return typeof raw === "object" && raw !== null && !Array.isArray(raw) && "v" in raw;
}

const ENVELOPE_KEYS = new Set(["v", "op", "cluster", "kind", "id", "revision", "generation", "resource"]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The common case of {@link resourceEventSchema}, checked by hand: at 20k events/s zod costs more than
 * the JSON work itself. True only for envelopes the schema accepts and returns unchanged (no keys it
 * would strip); everything else, including every invalid envelope, goes through zod, which also
 * words the issues. The property tests hold this to "true implies the schema accepts it".
 */
export function isPlainResourceEvent(raw: unknown): raw is ResourceEvent {
  if (!isPlainObject(raw)) return false;
  for (const key in raw) if (!ENVELOPE_KEYS.has(key)) return false;
  const { v, op, cluster, kind, id, revision, generation } = raw;
  if (v !== ENVELOPE_VERSION || typeof cluster !== "string" || !isClusterToken(cluster)) return false;
  if (typeof kind !== "string" || !isKindToken(kind) || typeof id !== "string") return false;
  if (typeof revision !== "string" || revision.length < 1 || revision.length > 256) return false;
  if (typeof generation !== "number" || !Number.isSafeInteger(generation) || generation < 0) return false;
  if (op === "delete") return !("resource" in raw);
  if (op !== "upsert") return false;
  const resource = raw["resource"];
  if (!isPlainObject(resource) || resource["kind"] !== kind) return false;
  const apiVersion = resource["apiVersion"];
  const metadata = resource["metadata"];
  if (typeof apiVersion !== "string" || apiVersion.length < 1 || !isPlainObject(metadata)) return false;
  const name = metadata["name"];
  const namespace = metadata["namespace"];
  if (typeof name !== "string" || name.length < 1) return false;
  return namespace === undefined || (typeof namespace === "string" && namespace.length > 0);
}

/** Encodes a resource event; throws {@link EncodeError} if it is not a valid envelope. */
export function encodeResourceEvent(event: ResourceEvent): Uint8Array {
  if (!isPlainResourceEvent(event)) return encodeJson(resourceEventSchema, event, "resource");
  const bytes = utf8Encoder.encode(JSON.stringify(event));
  if (bytes.length > MAX_MESSAGE_BYTES) {
    throw new EncodeError(
      `resource message is ${bytes.length} bytes, over the ${MAX_MESSAGE_BYTES}-byte limit`,
      "resource",
    );
  }
  return bytes;
}

/**
 * Decodes a resource event. With `subject`, also checks that the envelope's cluster, kind and id are the
 * ones the subject names, so a message cannot claim to be about another resource.
 */
export function decodeResourceEvent(data: Uint8Array, subject?: string): ResourceEvent {
  const event = decodePlainResourceEvent(data) ?? decodeJson(resourceEventSchema, data, "resource", subject);
  // Building the subject the envelope names is cheaper than parsing the one it came on.
  if (subject !== undefined && !namesSubject(event, subject)) {
    const address = parseResourceSubject(subject);
    if (address === undefined) {
      throw new DecodeError(`"${subject}" is not a resource subject`, { kind: "resource", subject });
    }
    if (address.cluster !== event.cluster || address.kind !== event.kind || address.id !== event.id) {
      throw new DecodeError(`resource event for ${event.cluster}/${event.kind}/${event.id} arrived on ${subject}`, {
        kind: "resource",
        subject,
        issues: [{ path: "", message: "envelope does not match its subject" }],
      });
    }
  }
  return event;
}

function namesSubject(event: ResourceEvent, subject: string): boolean {
  try {
    return subject === resourceSubject(event.cluster, event.kind, event.id);
  } catch {
    // Not expressible as a subject (e.g. too long): the parse below words the mismatch.
    return false;
  }
}

/** The fast path of {@link decodeResourceEvent}: undefined when zod has to look (or word the failure). */
function decodePlainResourceEvent(data: Uint8Array): ResourceEvent | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(utf8Decoder.decode(data));
  } catch {
    return undefined;
  }
  return isPlainResourceEvent(raw) ? raw : undefined;
}

/** Encodes a cluster status or its removal. */
export function encodeClusterStatus(message: ClusterStatusMessage): Uint8Array {
  return encodeJson(clusterStatusMessageSchema, message, "status");
}

/** Decodes a cluster status message; with `subject`, checks the cluster matches. */
export function decodeClusterStatus(data: Uint8Array, subject?: string): ClusterStatusMessage {
  const message = decodeJson(clusterStatusMessageSchema, data, "status", subject);
  if (subject !== undefined && parseStatusSubject(subject) !== message.cluster) {
    throw new DecodeError(`status of cluster ${message.cluster} arrived on ${subject}`, {
      kind: "status",
      subject,
      issues: [{ path: "cluster", message: "envelope does not match its subject" }],
    });
  }
  return message;
}

/** Encodes a connection config; refuses secrets in the clear spec. */
export function encodeConnectionConfig(config: ConnectionConfig): Uint8Array {
  return encodeJson(connectionConfigSchema, config, "connection");
}

/** Decodes a connection config; with `key`, checks the datastore type and cluster match the KV key. */
export function decodeConnectionConfig(data: Uint8Array, key?: string): ConnectionConfig {
  const config = decodeJson(connectionConfigSchema, data, "connection", key);
  if (key !== undefined) {
    const parsed = parseConnectionKey(key);
    if (parsed?.cluster !== config.cluster || parsed.datastoreType !== config.datastoreType) {
      throw new DecodeError(`connection config of ${config.datastoreType}/${config.cluster} stored under key ${key}`, {
        kind: "connection",
        subject: key,
        issues: [{ path: "", message: "envelope does not match its key" }],
      });
    }
  }
  return config;
}

/** Encodes a lease record. */
export function encodeLeaseRecord(record: LeaseRecord): Uint8Array {
  return encodeJson(leaseRecordSchema, record, "lease");
}

/** Decodes a lease record. */
export function decodeLeaseRecord(data: Uint8Array, key?: string): LeaseRecord {
  return decodeJson(leaseRecordSchema, data, "lease", key);
}

const DECIMAL = /^\d+$/;

/**
 * Orders two source revisions: numerically (BigInt) when both are decimal strings, as etcd mod
 * revisions and Kubernetes resourceVersions are in practice; otherwise by plain string comparison.
 * Returns a negative number, zero or a positive number.
 */
export function compareRevisions(a: string, b: string): number {
  if (DECIMAL.test(a) && DECIMAL.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What orders two messages about the same thing: config generation first, then source revision. */
export interface Versioned {
  generation: number;
  revision: string;
}

/**
 * Orders two versions of the same resource. A newer generation wins regardless of revision, because a
 * new connection config may point at another datastore whose revisions start lower.
 */
export function compareVersions(a: Versioned, b: Versioned): number {
  if (a.generation !== b.generation) return a.generation < b.generation ? -1 : 1;
  return compareRevisions(a.revision, b.revision);
}

/** True when `candidate` is strictly newer than `current` (a consumer drops anything else). */
export function isNewer(candidate: Versioned, current: Versioned | undefined): boolean {
  return current === undefined || compareVersions(candidate, current) > 0;
}
