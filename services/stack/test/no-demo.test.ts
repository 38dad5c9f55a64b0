/**
 * `fedview up --no-demo`: the same stack against the datastore calicoctl's environment names — here an
 * etcd of the test's own, holding local endpoints and one RCC for a remote etcd. No embedded etcd runs.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectBus, querySubject, requestService } from "@fedview/bus";
import type { RemoteClusterConfiguration } from "@fedview/model";
import type { EvalResult, QueryAnswer } from "@fedview/query-service";
import { freePorts, startEtcd } from "@fedview/testkit";
import { describe, expect, it } from "vitest";
import { eastResources } from "../src/demo-east.js";
import { localResources } from "../src/demo-local.js";
import { putCalicoResources } from "../src/etcd-seed.js";
import { createLocalStack } from "../src/index.js";

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

    const stateDir = await mkdtemp(join(tmpdir(), "fedview-stack-nodemo-"));
    try {
      // Ports of the ephemeral range: never the well-known ones another stack test may be probing.
      const [nats, natsMonitor, q, c, e, k] = (await freePorts(6)) as [number, number, number, number, number, number];
      await using stack = await createLocalStack({
        stateDir,
        demo: false,
        env: { ETCD_ENDPOINTS: local.url },
        ports: {
          nats,
          natsMonitor,
          queryMetrics: q,
          configMetrics: c,
          etcdConnectorMetrics: e,
          k8sConnectorMetrics: k,
        },
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
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
