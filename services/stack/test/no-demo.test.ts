/**
 * `fedview up --no-demo`: the same stack against the datastore calicoctl's environment names — here an
 * etcd of the test's own, holding local endpoints and one RCC for a remote etcd. No embedded etcd runs.
 */
import { connectBus, querySubject, requestService } from "@fedview/bus";
import type { RemoteClusterConfiguration } from "@fedview/model";
import type { EvalResult, QueryAnswer } from "@fedview/query-service";
import { startEtcd } from "@fedview/testkit";
import { describe, expect, it } from "vitest";
import { eastResources } from "../src/demo-east.js";
import { localResources } from "../src/demo-local.js";
import { putCalicoResources } from "../src/etcd-seed.js";
import { createLocalStack, StackAbortedError } from "../src/index.js";
import { ephemeralPorts, processesUsing, tempDir } from "./helpers.js";

describe("the local stack without the demo", () => {
  it("federates the local datastore calicoctl's environment names, with its RCCs", async () => {
    await using local = await startEtcd();
    await using remote = await startEtcd();
    await putCalicoResources(await remote.clientOptions(), eastResources());
    const rcc: RemoteClusterConfiguration = {
      apiVersion: "projectcalico.org/v3",
      kind: "RemoteClusterConfiguration",
      metadata: { name: "cluster-north" },
      spec: { datastoreType: "etcdv3", etcdEndpoints: remote.url, syncOptions: { overlayRoutingMode: "Disabled" } },
    };
    await putCalicoResources(await local.clientOptions(), [...localResources(), rcc]);

    await using dir = await tempDir();
    {
      await using stack = await createLocalStack({
        stateDir: dir.path,
        demo: false,
        env: { ETCD_ENDPOINTS: local.url },
        ports: await ephemeralPorts(),
      });
      expect(stack.processes.etcd).toBeUndefined();
      expect(stack.urls.etcd).toBeUndefined();
      expect(stack.datastore).toBe(`etcdv3 at ${local.url}`);
      expect(stack.sync).toMatchObject({ inSync: true, clusters: ["_local", "cluster-north"] });

      const nc = await connectBus({ servers: [stack.urls.nats] });
      try {
        const answer = await requestService<QueryAnswer<EvalResult>>(nc, querySubject("eval"), {
          selector: "app == 'storefront'",
        });
        expect(answer.result.endpoints.map((ep) => ep.display_name).sort()).toEqual([
          "cluster-north/east-node-1/k8s/shop.storefront-7d9f8b6c4-m8w2n/eth0",
          "cluster-north/east-node-2/k8s/shop.storefront-7d9f8b6c4-q4z7t/eth0",
          "hub-node-1/k8s/shop.storefront-6c9b8d7f5-w4n8r/eth0",
        ]);
      } finally {
        await nc.close();
      }
    }
  });

  it("says which cluster did not sync and why when the wait runs out, and keeps running", async () => {
    await using local = await startEtcd();
    // A remote whose etcd is gone: its port answers nothing.
    const gone = await startEtcd();
    const goneUrl = gone.url;
    await gone[Symbol.asyncDispose]();
    const rcc: RemoteClusterConfiguration = {
      apiVersion: "projectcalico.org/v3",
      kind: "RemoteClusterConfiguration",
      metadata: { name: "cluster-south" },
      spec: { datastoreType: "etcdv3", etcdEndpoints: goneUrl, syncOptions: { overlayRoutingMode: "Disabled" } },
    };
    await putCalicoResources(await local.clientOptions(), [...localResources(), rcc]);
    await using dir = await tempDir();
    let printed = "";
    await using stack = await createLocalStack({
      stateDir: dir.path,
      demo: false,
      env: { ETCD_ENDPOINTS: local.url },
      ports: await ephemeralPorts(),
      syncTimeoutMs: 3000,
      stdout: { write: (text: string) => (printed += text) },
    });
    expect(stack.sync.inSync).toBe(false);
    expect(stack.sync.rows["_local"]?.status).toBe("InSync");
    expect(stack.sync.rows["cluster-south"]?.status).not.toBe("InSync");
    expect(printed).toMatch(/ {2}cluster-south is not InSync after 3 s: (Connecting|ConnectionFailed)/);
    expect(printed).toContain("fedview is up, but not every cluster is InSync (see above).");
    // Still serving: the local cluster answers.
    const nc = await connectBus({ servers: [stack.urls.nats] });
    try {
      const answer = await requestService<QueryAnswer<EvalResult>>(nc, querySubject("eval"), { selector: "all()" });
      expect(answer.result.endpoints.length).toBeGreaterThan(0);
      expect(answer.problems.map((p) => p.cluster)).toEqual(["cluster-south"]);
    } finally {
      await nc.close();
    }
  });

  it("abandons a start whose signal aborts, leaving nothing running on the state dir", async () => {
    await using dir = await tempDir();
    const controller = new AbortController();
    controller.abort();
    await expect(
      createLocalStack({
        stateDir: dir.path,
        demo: false,
        env: {},
        ports: await ephemeralPorts(),
        signal: controller.signal,
      }),
    ).rejects.toThrow(StackAbortedError);
    expect(processesUsing(dir.path)).toEqual([]);
  });
});
