/**
 * Calico resources kept as Kubernetes custom resources (`crd.projectcalico.org/v1`), as in a
 * Kubernetes datastore: HostEndpoints of a remote cluster, RCCs of a local Kubernetes datastore.
 * The custom resource has the v3 spec; Calico stashes v3 metadata that Kubernetes would not keep
 * in the annotation `projectcalico.org/metadata`.
 */

import { CALICO_API_VERSION } from "./calico-v3.js";
import { describeValue, fromZodIssues } from "./issues.js";
import { isResourceKind, resourceKindInfo } from "./kinds.js";
import { isRecord } from "./objects.js";
import type { CalicoResource, HostEndpoint, ValidationResult } from "./types.js";

/** The apiVersion of Calico's custom resources. */
export const CALICO_CRD_API_VERSION = "crd.projectcalico.org/v1";

/** The annotation in which Calico stashes v3 metadata on a custom resource. */
export const CALICO_METADATA_ANNOTATION = "projectcalico.org/metadata";

/**
 * Metadata only the Kubernetes API server writes, never part of a Calico v3 resource: server-side
 * apply bookkeeping (often larger than the resource itself) and the legacy self link.
 */
const API_SERVER_METADATA: ReadonlySet<string> = new Set(["managedFields", "selfLink"]);

/**
 * The custom resource's metadata as v3 metadata starts from: without the API server's own fields,
 * and without nulls (Go's JSON writes unset values as null; the v3 schemas expect them absent).
 */
function baseMetadata(meta: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(meta).filter(
      ([key, value]) => value !== null && value !== undefined && !API_SERVER_METADATA.has(key),
    ),
  );
}

/** Rebuilds v3 metadata from a custom resource's metadata and Calico's stash, if any. */
function v3Metadata(meta: Record<string, unknown>): Record<string, unknown> {
  const annotations = isRecord(meta["annotations"]) ? { ...meta["annotations"] } : undefined;
  const stashText = annotations?.[CALICO_METADATA_ANNOTATION];
  if (annotations === undefined || typeof stashText !== "string") return baseMetadata(meta);
  delete annotations[CALICO_METADATA_ANNOTATION];
  let stash: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(stashText);
    if (isRecord(parsed)) stash = parsed;
  } catch {
    // An unreadable stash is ignored: the custom resource's own metadata still identifies it.
  }
  const out: Record<string, unknown> = { ...baseMetadata(meta) };
  delete out["annotations"];
  const labels = stash["labels"] ?? meta["labels"];
  if (isRecord(labels)) out["labels"] = labels;
  const stashed = isRecord(stash["annotations"])
    ? stash["annotations"]
    : Object.keys(annotations).length > 0
      ? annotations
      : undefined;
  if (stashed !== undefined) out["annotations"] = stashed;
  // Identity comes from the custom resource; uid and creation time from the stash when it has them.
  for (const key of ["uid", "creationTimestamp"]) {
    if (typeof stash[key] === "string" && stash[key] !== "") out[key] = stash[key];
  }
  return out;
}

/**
 * Converts a `crd.projectcalico.org/v1` custom resource of a known kind to its v3 resource and
 * validates it. Never throws.
 */
export function fromCrdResource(input: unknown): ValidationResult<CalicoResource> {
  if (!isRecord(input)) {
    return {
      success: false,
      issues: [{ path: "", message: `expected a Calico custom resource, not ${describeValue(input)}` }],
    };
  }
  if (input["apiVersion"] !== CALICO_CRD_API_VERSION) {
    return {
      success: false,
      issues: [
        {
          path: "apiVersion",
          message: `apiVersion must be "${CALICO_CRD_API_VERSION}", not ${describeValue(input["apiVersion"])}`,
        },
      ],
    };
  }
  const kind = input["kind"];
  if (typeof kind !== "string" || !isResourceKind(kind)) {
    return {
      success: false,
      issues: [{ path: "kind", message: `kind ${describeValue(kind)} is not a Calico kind fedview reads` }],
    };
  }
  const metadata = isRecord(input["metadata"]) ? v3Metadata(input["metadata"]) : input["metadata"];
  const candidate = { ...input, apiVersion: CALICO_API_VERSION, metadata };
  const parsed = resourceKindInfo[kind].schema.safeParse(candidate);
  if (parsed.success) return { success: true, data: parsed.data };
  return { success: false, issues: fromZodIssues(parsed.error.issues, candidate) };
}

/** Converts a `hostendpoints.crd.projectcalico.org` (v1) object to a v3 HostEndpoint. Never throws. */
export function hostEndpointFromCrd(input: unknown): ValidationResult<HostEndpoint> {
  if (isRecord(input) && input["kind"] !== "HostEndpoint") {
    return {
      success: false,
      issues: [{ path: "kind", message: `kind must be "HostEndpoint", not ${describeValue(input["kind"])}` }],
    };
  }
  return fromCrdResource(input) as ValidationResult<HostEndpoint>;
}

/**
 * The custom resource Calico keeps for a v3 resource: apiVersion `crd.projectcalico.org/v1`, the
 * same spec, labels on the object, and the v3 annotations stashed in `projectcalico.org/metadata`.
 */
export function toCrdResource(resource: CalicoResource): Record<string, unknown> {
  const { annotations, ...metadata } = resource.metadata;
  const out: Record<string, unknown> = { ...metadata };
  if (annotations !== undefined && Object.keys(annotations).length > 0) {
    out["annotations"] = { [CALICO_METADATA_ANNOTATION]: JSON.stringify({ annotations }) };
  }
  return { ...resource, apiVersion: CALICO_CRD_API_VERSION, metadata: out };
}
