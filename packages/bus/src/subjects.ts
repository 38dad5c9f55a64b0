/**
 * Every subject, stream, bucket and key name fedview uses is built here and nowhere else.
 *
 * Subject scheme (version 1):
 *
 * | subject                                   | what                                   |
 * |-------------------------------------------|----------------------------------------|
 * | `fedview.v1.res.<cluster>.<kind>.<id>`    | resource events (`<id>` token-encoded)  |
 * | `fedview.v1.status.<cluster>`             | cluster status                          |
 * | `fedview.v1.query.<endpoint>`             | query RPC (`fedview-query` service)     |
 * | `fedview.v1.config.<endpoint>`            | config RPC (`fedview-config` service)   |
 *
 * KV keys: connection configs `<datastoreType>.<cluster>`, leases `<token-encoded lease name>`.
 *
 * Token encoding: a string becomes ONE subject token over the alphabet `A-Z a-z 0-9 - _ /` plus `=`.
 * Characters of that alphabet other than `=` stand for themselves; every other character becomes its
 * UTF-8 bytes, each written `=XX` (two upper-case hex digits). The empty string is written `=`.
 * The encoding is canonical: decoding rejects lower-case hex, escaped alphabet characters, stray `=`,
 * and invalid UTF-8, so a token has exactly one meaning. `.`, `*`, `>`, whitespace and non-ASCII never
 * reach a subject, and every token is also a valid KV key.
 */
import { SubjectError } from "./errors.js";
import type { DatastoreType } from "./types.js";
import { DATASTORE_TYPES, LOCAL_CLUSTER } from "./types.js";

/** The root of every fedview subject; the version changes only with an incompatible envelope. */
export const SUBJECT_PREFIX = "fedview.v1";

/** Every resource event. */
export const RESOURCE_SUBJECTS = `${SUBJECT_PREFIX}.res.>`;

/** Every cluster status. */
export const STATUS_SUBJECTS = `${SUBJECT_PREFIX}.status.>`;

/** Default name of the durable state stream. */
export const DEFAULT_STATE_STREAM = "FEDVIEW_STATE";

/** Default name of the connection-config KV bucket. */
export const DEFAULT_CONNECTIONS_BUCKET = "fedview-connections";

/** Default name of the ownership-lease KV bucket. */
export const DEFAULT_LEASES_BUCKET = "fedview-leases";

/** Name of the query micro service. */
export const QUERY_SERVICE_NAME = "fedview-query";

/** Endpoints of the query service. */
export const QUERY_ENDPOINTS = ["eval", "policy", "endpoint", "host", "status", "watch", "inventory"] as const;

/** One endpoint of the query service. */
export type QueryEndpoint = (typeof QUERY_ENDPOINTS)[number];

/** Name of the config micro service. */
export const CONFIG_SERVICE_NAME = "fedview-config";

/** Endpoints of the config service. */
export const CONFIG_ENDPOINTS = ["apply", "get", "list", "delete"] as const;

/** One endpoint of the config service. */
export type ConfigEndpoint = (typeof CONFIG_ENDPOINTS)[number];

// Longest subject we build; nats-server's default max control line is 4 KiB and the subject shares it.
const MAX_SUBJECT_LENGTH = 2048;
const SAFE = /^[A-Za-z0-9/_-]$/;
// The common case, a token of safe characters only, is its own encoding: no per-character work.
const ALL_SAFE = /^[A-Za-z0-9/_-]+$/;
const CLUSTER = /^[a-z0-9](?:[a-z0-9-]{0,251}[a-z0-9])?$/;
const KIND = /^[A-Z][A-Za-z0-9]{0,62}$/;
const HEX = "0123456789ABCDEF";
// In a `u` regex a lone surrogate is a code point of category Cs; a proper pair is not.
const LONE_SURROGATE = /\p{Cs}/u;
const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Encodes any well-formed string into a single subject token (see the module comment for the scheme).
 * Throws {@link SubjectError} for strings with lone surrogates, which have no UTF-8 form.
 */
export function encodeSubjectToken(value: string): string {
  if (value === "") return "=";
  if (ALL_SAFE.test(value)) return value;
  if (LONE_SURROGATE.test(value))
    throw new SubjectError("cannot encode a string with lone surrogates as a subject token");
  let out = "";
  for (const ch of value) {
    if (SAFE.test(ch)) {
      out += ch;
      continue;
    }
    for (const byte of utf8.encode(ch)) out += `=${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

/** Decodes a token made by {@link encodeSubjectToken}; throws {@link SubjectError} for anything else. */
export function decodeSubjectToken(token: string): string {
  if (token === "=") return "";
  if (token === "") throw new SubjectError("an empty subject token encodes nothing");
  if (ALL_SAFE.test(token)) return token;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const ch = token[i]!;
    if (ch === "=") {
      // indexOf("") would be 0, so a missing digit must not reach it.
      const hi = i + 1 < token.length ? HEX.indexOf(token[i + 1]!) : -1;
      const lo = i + 2 < token.length ? HEX.indexOf(token[i + 2]!) : -1;
      if (hi < 0 || lo < 0) throw new SubjectError(`malformed escape at offset ${i} of subject token "${token}"`);
      const byte = hi * 16 + lo;
      if (byte < 0x80 && SAFE.test(String.fromCharCode(byte))) {
        throw new SubjectError(`non-canonical escape at offset ${i} of subject token "${token}"`);
      }
      bytes.push(byte);
      i += 2;
    } else if (SAFE.test(ch)) {
      bytes.push(ch.charCodeAt(0));
    } else {
      throw new SubjectError(`character ${JSON.stringify(ch)} is not allowed in an encoded subject token`);
    }
  }
  try {
    return strictUtf8.decode(new Uint8Array(bytes));
  } catch (err) {
    throw new SubjectError(`subject token "${token}" does not decode to valid UTF-8`, { cause: err });
  }
}

/** True for an RCC name (lower-case alphanumerics and `-`) or the local cluster token. */
export function isClusterToken(cluster: string): boolean {
  return cluster === LOCAL_CLUSTER || CLUSTER.test(cluster);
}

/** True for a Calico kind name such as `WorkloadEndpoint`. */
export function isKindToken(kind: string): boolean {
  return KIND.test(kind);
}

function checkCluster(cluster: string): string {
  if (!isClusterToken(cluster)) {
    throw new SubjectError(
      `"${cluster}" is not a cluster name (lower-case alphanumerics and "-") nor "${LOCAL_CLUSTER}"`,
    );
  }
  return cluster;
}

function checkKind(kind: string): string {
  if (!isKindToken(kind)) throw new SubjectError(`"${kind}" is not a Calico kind name`);
  return kind;
}

function checkLength(subject: string): string {
  if (subject.length > MAX_SUBJECT_LENGTH) {
    throw new SubjectError(`subject is ${subject.length} characters long, over the limit of ${MAX_SUBJECT_LENGTH}`);
  }
  return subject;
}

/** Where a resource event lives: its cluster, kind and id. */
export interface ResourceAddress {
  cluster: string;
  kind: string;
  id: string;
}

/** `fedview.v1.res.<cluster>.<kind>.<encoded id>`. */
export function resourceSubject(cluster: string, kind: string, id: string): string {
  return checkLength(`${SUBJECT_PREFIX}.res.${checkCluster(cluster)}.${checkKind(kind)}.${encodeSubjectToken(id)}`);
}

/** Narrows resource subjects to a cluster and/or a kind. */
export interface ResourceFilter {
  cluster?: string;
  kind?: string;
}

/**
 * The wildcard subject of the resource events matching `filter`: everything, one cluster
 * (`…res.<cluster>.>`), one kind in every cluster (`…res.*.<kind>.*`) or one kind of one cluster.
 */
export function resourceFilterSubject(filter: ResourceFilter = {}): string {
  const { cluster, kind } = filter;
  if (cluster === undefined && kind === undefined) return RESOURCE_SUBJECTS;
  if (kind === undefined) return `${SUBJECT_PREFIX}.res.${checkCluster(cluster!)}.>`;
  return `${SUBJECT_PREFIX}.res.${cluster === undefined ? "*" : checkCluster(cluster)}.${checkKind(kind)}.*`;
}

/** Parses a resource subject back into its address; `undefined` if it is not one. */
export function parseResourceSubject(subject: string): ResourceAddress | undefined {
  const parts = subject.split(".");
  if (parts.length !== 6 || `${parts[0]}.${parts[1]}` !== SUBJECT_PREFIX || parts[2] !== "res") return undefined;
  const [cluster, kind, token] = [parts[3]!, parts[4]!, parts[5]!];
  if (!isClusterToken(cluster) || !isKindToken(kind)) return undefined;
  try {
    return { cluster, kind, id: decodeSubjectToken(token) };
  } catch {
    return undefined;
  }
}

/** `fedview.v1.status.<cluster>`. */
export function statusSubject(cluster: string): string {
  return `${SUBJECT_PREFIX}.status.${checkCluster(cluster)}`;
}

/** The status subject of one cluster, or the wildcard over every cluster. */
export function statusFilterSubject(cluster?: string): string {
  return cluster === undefined ? `${SUBJECT_PREFIX}.status.*` : statusSubject(cluster);
}

/** The cluster of a status subject; `undefined` if it is not one. */
export function parseStatusSubject(subject: string): string | undefined {
  const parts = subject.split(".");
  if (parts.length !== 4 || `${parts[0]}.${parts[1]}` !== SUBJECT_PREFIX || parts[2] !== "status") return undefined;
  return isClusterToken(parts[3]!) ? parts[3] : undefined;
}

/** `fedview.v1.query.<endpoint>`. */
export function querySubject(endpoint: QueryEndpoint): string {
  return `${SUBJECT_PREFIX}.query.${endpoint}`;
}

/** `fedview.v1.config.<endpoint>`. */
export function configSubject(endpoint: ConfigEndpoint): string {
  return `${SUBJECT_PREFIX}.config.${endpoint}`;
}

function checkDatastoreType(datastoreType: string): DatastoreType {
  if (!(DATASTORE_TYPES as readonly string[]).includes(datastoreType)) {
    throw new SubjectError(`"${datastoreType}" is not a datastore type (${DATASTORE_TYPES.join(", ")})`);
  }
  return datastoreType as DatastoreType;
}

/** The connection-config KV key of a cluster: `<datastoreType>.<cluster>`. */
export function connectionKey(datastoreType: DatastoreType, cluster: string): string {
  return `${checkDatastoreType(datastoreType)}.${checkCluster(cluster)}`;
}

/** The KV key filter for the connection configs of one datastore type, or of all. */
export function connectionKeyFilter(datastoreType?: DatastoreType): string {
  return datastoreType === undefined ? ">" : `${checkDatastoreType(datastoreType)}.*`;
}

/** Parses a connection-config key; `undefined` if it is not one. */
export function parseConnectionKey(key: string): { datastoreType: DatastoreType; cluster: string } | undefined {
  const parts = key.split(".");
  if (parts.length !== 2) return undefined;
  const [datastoreType, cluster] = [parts[0]!, parts[1]!];
  if (!(DATASTORE_TYPES as readonly string[]).includes(datastoreType) || !isClusterToken(cluster)) return undefined;
  return { datastoreType: datastoreType as DatastoreType, cluster };
}

/** The lease KV key of a lease name (any string; connectors use the cluster name). */
export function leaseKey(name: string): string {
  return encodeSubjectToken(name);
}

/** The lease name of a lease KV key. */
export function parseLeaseKey(key: string): string {
  return decodeSubjectToken(key);
}

/** The stream behind a KV bucket (the KV protocol names it `KV_<bucket>`). */
export function kvStreamName(bucket: string): string {
  return `KV_${bucket}`;
}

/** The subject of a KV key inside its bucket's stream (`$KV.<bucket>.<key>`, wildcards allowed). */
export function kvKeySubject(bucket: string, key: string): string {
  return `$KV.${bucket}.${key}`;
}
