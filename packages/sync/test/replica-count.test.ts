import { leaseKey } from "@fedview/bus";
import { describe, expect, it } from "vitest";
import { countReplicas } from "../src/connector-runtime.js";

async function* listing(names: string[]): AsyncIterable<string> {
  for (const name of names) yield leaseKey(name);
}

describe("countReplicas", () => {
  it("counts each presence lease once, however often a listing delivers it", async () => {
    // A listing that runs while leases are renewed delivers the renewed keys again.
    const keys = [
      "replica:etcdv3:a",
      "etcdv3:east",
      "replica:etcdv3:a",
      "replica:etcdv3:b",
      "etcdv3:east",
      "replica:etcdv3:a",
      "replica:etcdv3:b",
    ];
    expect(await countReplicas(listing(keys), "etcdv3")).toBe(2);
  });

  it("counts only the presence leases of its own datastore type", async () => {
    const keys = ["replica:kubernetes:k1", "replica:etcdv3:a", "replica:kubernetes:k2", "east"];
    expect(await countReplicas(listing(keys), "etcdv3")).toBe(1);
    expect(await countReplicas(listing(keys), "kubernetes")).toBe(2);
  });

  it("skips keys that are not lease names", async () => {
    async function* odd(): AsyncIterable<string> {
      yield "%%not-a-token%%";
      yield leaseKey("replica:etcdv3:a");
    }
    expect(await countReplicas(odd(), "etcdv3")).toBe(1);
  });
});
