import { describe, expect, it } from "vitest";
import {
  isIncompleteStatus,
  REMOTE_CLUSTER_STATUS_METRIC_VALUE,
  REMOTE_CLUSTER_STATUSES,
  RemoteClusterStatus,
  RemoteClusterStatusSchema,
  statusCarriesError,
} from "../src/index.js";

describe("RemoteClusterStatus", () => {
  it("lists Calico's six values in Calico's order", () => {
    expect(REMOTE_CLUSTER_STATUSES).toEqual([
      "Connecting",
      "ConnectionFailed",
      "ResyncInProgress",
      "InSync",
      "ConfigChangeRestartRequired",
      "ConfigIncomplete",
    ]);
    expect(RemoteClusterStatus.InSync).toBe("InSync");
  });

  it.each([
    ["ConnectionFailed", 0],
    ["Connecting", 1],
    ["InSync", 2],
    ["ResyncInProgress", 3],
    ["ConfigChangeRestartRequired", 4],
    ["ConfigIncomplete", 5],
  ] as const)("maps %s to gauge value %i", (status, value) => {
    expect(REMOTE_CLUSTER_STATUS_METRIC_VALUE[status]).toBe(value);
  });

  it.each([
    ["Connecting", false, true],
    ["ConnectionFailed", true, true],
    ["ResyncInProgress", false, true],
    ["InSync", false, false],
    ["ConfigChangeRestartRequired", false, false],
    ["ConfigIncomplete", true, false],
  ] as const)("%s: carries an error %s, incomplete for calicoq %s", (status, error, incomplete) => {
    expect(statusCarriesError(status)).toBe(error);
    expect(isIncompleteStatus(status)).toBe(incomplete);
  });

  it("validates status values", () => {
    expect(RemoteClusterStatusSchema.parse("InSync")).toBe("InSync");
    expect(RemoteClusterStatusSchema.safeParse("Synced").success).toBe(false);
  });
});
