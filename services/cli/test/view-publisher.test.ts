/**
 * The in-process publisher: what ClusterSync publishes lands in the view, and what it reads back
 * (`readState`) is the last op, revision and generation per key and the status — no resource copies.
 */
import { FederatedView } from "@fedview/query-service";
import { describe, expect, it } from "vitest";
import { createViewPublisher } from "../src/view-publisher.js";
import { eventsFor, localResources } from "./fixtures.js";

describe("createViewPublisher", () => {
  it("feeds the view and reads back versions, deletes and status", async () => {
    const view = new FederatedView();
    const heard: string[] = [];
    const publisher = createViewPublisher(view, (s) => heard.push(`${s.cluster}:${s.status}`));
    const [db] = eventsFor("east", localResources()).filter((e) => e.id.includes("db--0"));
    if (db === undefined || db.op !== "upsert") throw new Error("fixture has no db pod");
    await publisher.publishUpsert("east", 3, { kind: db.kind, id: db.id, revision: "41", resource: db.resource });
    expect(view.eval("app == 'db'").endpoints.map((e) => e.display_name)).toEqual(["east/node-2/k8s/prod.db-0/eth0"]);
    await publisher.publishStatus({
      cluster: "east",
      status: "ResyncInProgress",
      since: Date.parse("2026-03-01T10:00:00Z"),
      generation: 3,
      counts: { WorkloadEndpoint: 1 },
      stale: false,
    });
    expect(heard).toEqual(["east:ResyncInProgress"]);
    expect(view.problems().map((p) => [p.cluster, p.status, p.since])).toEqual([
      ["east", "ResyncInProgress", "2026-03-01T10:00:00.000Z"],
    ]);
    const state = await publisher.readState("east");
    expect(state.resources).toEqual([{ op: "upsert", kind: db.kind, id: db.id, revision: "41", generation: 3 }]);
    expect(state.status?.status).toBe("ResyncInProgress");

    await publisher.publishDelete("east", 3, db.kind, db.id, "42");
    expect(view.eval("app == 'db'").endpoints).toEqual([]);
    expect((await publisher.readState("east")).resources).toEqual([]);
    await publisher.removeStatus("east", 3);
    expect(view.problems()).toEqual([]);
    expect((await publisher.readState("east")).status).toBeUndefined();
  });
});
