/**
 * WorkloadEndpoint names: four segments (node, orchestrator, workload, endpoint) joined by `-`,
 * with every `-` inside a segment doubled, e.g. node `node1`, pod `pod-1`, endpoint `eth0` →
 * `node1-k8s-pod--1-eth0`.
 */
import { WorkloadEndpointNameError } from "./errors.js";
import type { WorkloadEndpointNameParts } from "./types.js";

const SEGMENTS = ["node", "orchestrator", "workload", "endpoint"] as const;

/**
 * Builds a WorkloadEndpoint name. Each segment must be non-empty and must not start with `-`
 * (Kubernetes and Calico names never do); otherwise the name could not be split back unambiguously.
 */
export function encodeWorkloadEndpointName(parts: WorkloadEndpointNameParts): string {
  return SEGMENTS.map((segment) => {
    const value = parts[segment];
    if (value === "") {
      throw new WorkloadEndpointNameError(`cannot build a WorkloadEndpoint name: ${segment} is empty`);
    }
    if (value.startsWith("-")) {
      throw new WorkloadEndpointNameError(
        `cannot build a WorkloadEndpoint name: ${segment} "${value}" starts with "-", which cannot be split back`,
      );
    }
    return value.replaceAll("-", "--");
  }).join("-");
}

/**
 * Splits a WorkloadEndpoint name into its four segments, undoubling `--`. Returns null when the
 * name is not exactly four segments in the canonical encoding.
 */
export function parseWorkloadEndpointName(name: string): WorkloadEndpointNameParts | null {
  const segments: string[] = [];
  let current = "";
  for (let i = 0; i < name.length; i++) {
    const char = name[i];
    if (char !== "-") {
      current += char;
      continue;
    }
    // Scanning left to right, a pair is an escaped dash and a lone dash separates segments.
    if (name[i + 1] === "-") {
      current += "-";
      i++;
    } else {
      segments.push(current);
      current = "";
    }
  }
  segments.push(current);
  if (segments.length !== 4) return null;
  const [node = "", orchestrator = "", workload = "", endpoint = ""] = segments;
  const parts = { node, orchestrator, workload, endpoint };
  // Only accept names this module would produce, so that parse and encode are inverses.
  try {
    return encodeWorkloadEndpointName(parts) === name ? parts : null;
  } catch {
    return null;
  }
}
