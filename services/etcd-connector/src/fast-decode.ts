/**
 * A hand-written decoder for the shapes a remote holds by the hundred thousand — WorkloadEndpoints,
 * HostEndpoints and rule-less Profiles as Calico stores them — tried before the model's
 * `decodeEtcdResource`, whose zod schema costs more than everything else the connector does per key.
 *
 * It gives exactly what `decodeEtcdResource` would, or nothing: a value passes only when every field
 * the schema types has the type the schema wants, and the result is built the way the schema builds
 * it (known fields first in the schema's order, then unknown fields in stored order, nothing
 * dropped). Anything else — invalid values, nested structures (ports, NATs, rules), odd encodings —
 * gets `undefined`, and the schema decides and words the reason. The property tests hold it to
 * "decodes ⇒ the schema accepts it and gives the same value, byte for byte as JSON".
 */
import { isUtf8 } from "node:buffer";
import { type CalicoResource, type EtcdKeyRef, isPlainStringMap, isRecord, isStringArray } from "@fedview/model";

type Json = Record<string, unknown>;

const API_VERSION = "projectcalico.org/v3";
const NONE: Json = {};

/** The fields of a schema object, in the schema's order, and the check of each (absent always passes). */
interface Shape {
  keys: readonly string[];
  known: ReadonlySet<string>;
  check: Readonly<Record<string, (value: unknown) => boolean>>;
}

const isString = (v: unknown) => typeof v === "string";
/** Present but not checkable here: send the value to the schema. */
const leaveToSchema = () => false;

function shape(check: Record<string, (value: unknown) => boolean>): Shape {
  const keys = Object.keys(check);
  return { keys, known: new Set(keys), check };
}

/** `ObjectMetaSchema` / `NamespacedObjectMetaSchema` (name and namespace come from the key). */
const METADATA = shape({
  name: isString,
  namespace: isString,
  labels: isPlainStringMap,
  annotations: isPlainStringMap,
  uid: isString,
  resourceVersion: isString,
  generation: (v) => typeof v === "number",
  creationTimestamp: (v) => v === null || typeof v === "string",
});

/** The top level of every kind's schema. */
const TOP = shape({ apiVersion: isString, kind: isString, metadata: isRecord, spec: isRecord });

/** `WorkloadEndpointSpecSchema`. */
const WORKLOAD_ENDPOINT_SPEC = shape({
  orchestrator: isString,
  workload: isString,
  node: isString,
  containerID: isString,
  pod: isString,
  endpoint: isString,
  serviceAccountName: isString,
  ipNetworks: isStringArray,
  ipNATs: leaveToSchema,
  ipv4Gateway: isString,
  ipv6Gateway: isString,
  profiles: isStringArray,
  interfaceName: isString,
  mac: isString,
  ports: leaveToSchema,
  allowSpoofedSourcePrefixes: isStringArray,
});

/** `HostEndpointSpecSchema`. */
const HOST_ENDPOINT_SPEC = shape({
  node: isString,
  interfaceName: isString,
  expectedIPs: isStringArray,
  profiles: isStringArray,
  ports: leaveToSchema,
});

/** `ProfileSpecSchema`. */
const PROFILE_SPEC = shape({ ingress: leaveToSchema, egress: leaveToSchema, labelsToApply: isPlainStringMap });

const SPECS: Partial<Record<string, Shape>> = {
  WorkloadEndpoint: WORKLOAD_ENDPOINT_SPEC,
  HostEndpoint: HOST_ENDPOINT_SPEC,
  Profile: PROFILE_SPEC,
};

/**
 * `value` with the fields of `over` put in (as `{ ...value, ...over }` would), checked against `s`
 * and copied as zod copies a loose object: known fields in the schema's order, then the others in
 * their own order. `over` holds known fields only. Undefined when a known field has the wrong type
 * or `value` has an own `__proto__`.
 */
function conform(value: Json, s: Shape, over: Json): Json | undefined {
  if (Object.hasOwn(value, "__proto__")) return undefined;
  const out: Json = {};
  for (const key of s.keys) {
    const v = Object.hasOwn(over, key) ? over[key] : value[key];
    if (v === undefined) continue;
    if (!s.check[key]!(v)) return undefined;
    out[key] = v;
  }
  for (const key in value) if (!s.known.has(key)) out[key] = value[key];
  return out;
}

/** Bytes that start with a UTF-8 byte order mark, which `TextDecoder` drops and `Buffer` keeps. */
function startsWithBom(value: Uint8Array): boolean {
  return value.length >= 3 && value[0] === 0xef && value[1] === 0xbb && value[2] === 0xbf;
}

/**
 * What `decodeEtcdResource(key, value, modRevision)` returns as its data, for a value of the common
 * shapes of the kind `ref` names; `undefined` means "ask the schema", not "invalid".
 */
export function fastDecodeEtcdResource(
  ref: EtcdKeyRef,
  value: Uint8Array,
  modRevision: string,
): CalicoResource | undefined {
  const spec = SPECS[ref.kind];
  if (spec === undefined || startsWithBom(value)) return undefined;
  const bytes = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  // Invalid UTF-8 may be replaced differently by TextDecoder and Buffer: the schema path decodes it.
  if (!isUtf8(bytes)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    return undefined;
  }
  if (!isRecord(json) || json["apiVersion"] !== API_VERSION || json["kind"] !== ref.kind) return undefined;
  const storedMeta = json["metadata"];
  const storedSpec = json["spec"];
  // A missing spec or metadata gets the schema's defaults: let the schema supply them.
  if (!isRecord(storedMeta) || !isRecord(storedSpec)) return undefined;
  // As decodeEtcdResource: name and namespace from the key, resourceVersion from the ModRevision.
  const metadata = conform(
    storedMeta,
    METADATA,
    ref.namespace !== undefined
      ? { name: ref.name, namespace: ref.namespace, resourceVersion: modRevision }
      : { name: ref.name, resourceVersion: modRevision },
  );
  const conformedSpec = metadata && conform(storedSpec, spec, NONE);
  if (conformedSpec === undefined) return undefined;
  return conform(json, TOP, { metadata, spec: conformedSpec }) as CalicoResource | undefined;
}
