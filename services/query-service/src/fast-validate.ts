/**
 * The common shapes of the kinds the view receives by the hundred thousand (WorkloadEndpoint,
 * HostEndpoint, Profile), checked by hand before the model's zod schema: at 1M endpoints the schema
 * costs more than everything else the view does per event. A resource passes only if the schema
 * would accept it as it is (fields the schema types are checked, unknown fields pass as the loose
 * schema lets them); anything else, including every invalid resource, goes to the schema, which
 * decides and words the reason. The property tests hold this to "passes implies the schema accepts".
 */

import { isPlainStringMap, isRecord, isStringArray } from "@fedview/model";

type Json = Record<string, unknown>;

const optionalString = (value: unknown) => value === undefined || typeof value === "string";
const optionalStringArray = (value: unknown) => value === undefined || isStringArray(value);
const optionalStringMap = (value: unknown) => value === undefined || isPlainStringMap(value);

/** `ObjectMetaSchema` (and its namespaced variant). */
function isPlainMetadata(value: unknown, namespaced: boolean): boolean {
  if (!isRecord(value)) return false;
  const { name, namespace, labels, annotations, uid, resourceVersion, generation, creationTimestamp } = value;
  if (typeof name !== "string" || name.length === 0) return false;
  if (namespaced ? typeof namespace !== "string" || namespace.length === 0 : !optionalString(namespace)) return false;
  if (!optionalStringMap(labels) || !optionalStringMap(annotations)) return false;
  if (!optionalString(uid) || !optionalString(resourceVersion)) return false;
  if (generation !== undefined && typeof generation !== "number") return false;
  return creationTimestamp === undefined || creationTimestamp === null || typeof creationTimestamp === "string";
}

const WEP_STRINGS = [
  "orchestrator",
  "workload",
  "node",
  "containerID",
  "pod",
  "endpoint",
  "serviceAccountName",
  "ipv4Gateway",
  "ipv6Gateway",
  "interfaceName",
  "mac",
] as const;
const WEP_STRING_ARRAYS = ["ipNetworks", "profiles", "allowSpoofedSourcePrefixes"] as const;
const HEP_STRINGS = ["node", "interfaceName"] as const;
const HEP_STRING_ARRAYS = ["expectedIPs", "profiles"] as const;

function isPlainSpec(
  spec: Json,
  strings: readonly string[],
  arrays: readonly string[],
  leftToSchema: readonly string[],
): boolean {
  for (const key of strings) if (!optionalString(spec[key])) return false;
  for (const key of arrays) if (!optionalStringArray(spec[key])) return false;
  // Nested structures (ports, NATs, rules) are rare on the bus and left to the schema.
  for (const key of leftToSchema) if (spec[key] !== undefined) return false;
  return true;
}

/**
 * True when `resource` is a `kind` resource the model's schema accepts unchanged; false means "ask
 * the schema", not "invalid".
 */
export function isPlainViewResource(kind: string, resource: unknown): boolean {
  if (!isRecord(resource) || resource["apiVersion"] !== "projectcalico.org/v3" || resource["kind"] !== kind) {
    return false;
  }
  const spec = resource["spec"];
  // A missing spec gets the schema's default: let the schema supply it.
  if (!isRecord(spec)) return false;
  switch (kind) {
    case "WorkloadEndpoint":
      return (
        isPlainMetadata(resource["metadata"], true) &&
        isPlainSpec(spec, WEP_STRINGS, WEP_STRING_ARRAYS, ["ipNATs", "ports"])
      );
    case "HostEndpoint":
      return (
        isPlainMetadata(resource["metadata"], false) && isPlainSpec(spec, HEP_STRINGS, HEP_STRING_ARRAYS, ["ports"])
      );
    case "Profile":
      return (
        isPlainMetadata(resource["metadata"], false) &&
        optionalStringMap(spec["labelsToApply"]) &&
        spec["ingress"] === undefined &&
        spec["egress"] === undefined
      );
    default:
      return false;
  }
}
