/**
 * The local stack end to end, on real servers: the demo federation comes up, every cluster reaches
 * InSync, the query service's `eval all()` lists the endpoints of all three clusters under calicoq's
 * names (remote ones prefixed `<cluster>/`), stopping leaves no process behind, and a start on the same
 * state directory brings the same view back. Then the README's command itself (`main.ts`), stopped
 * with SIGINT as Ctrl-C does.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type BusConnection, connectBus, querySubject, requestService } from "@fedview/bus";
import type { EvalResult, PolicyResult, QueryAnswer, StatusResult } from "@fedview/query-service";
import { TIMEOUTS, waitFor } from "@fedview/testkit";
import { describe, expect, it } from "vitest";
import {
  createLocalStack,
  type DemoCluster,
  EAST_CLUSTER,
  EAST_DEMO,
  LOCAL_DEMO,
  WEST_CLUSTER,
  WEST_DEMO,
} from "../src/index.js";
import { alive, processesUsing, tempDir } from "./helpers.js";

const root = join(import.meta.dirname, "../../..");
const mainTs = join(import.meta.dirname, "../src/main.ts");

/**
 * A tsconfig mapping every workspace package to its sources, as vitest.config.ts aliases them: tsx then
 * runs `main.ts` with no build of the packages it imports.
 */
async function sourcesTsconfig(dir: string): Promise<string> {
  const paths: Record<string, string[]> = {};
  for (const group of ["packages", "services"]) {
    for (const entry of readdirSync(join(root, group))) {
      const manifest = join(root, group, entry, "package.json");
      const index = join(root, group, entry, "src/index.ts");
      if (!existsSync(manifest) || !existsSync(index)) continue;
      paths[(JSON.parse(readFileSync(manifest, "utf8")) as { name: string }).name] = [index];
    }
  }
  const file = join(dir, "tsconfig.sources.json");
  await writeFile(file, JSON.stringify({ extends: join(root, "tsconfig.base.json"), compilerOptions: { paths } }));
  return file;
}

/** calicoq's name of every endpoint a cluster should show: running pods off the host network, and host endpoints. */
function endpointNames(cluster: string | undefined, demo: DemoCluster): string[] {
  const prefix = cluster === undefined ? "" : `${cluster}/`;
  const workloads = demo.pods
    .filter((p) => p.hostNetwork !== true && (p.phase ?? "Running") === "Running")
    .map((p) => `${prefix}${p.node}/k8s/${p.namespace}.${p.name}/eth0`);
  const hosts = demo.hostEndpoints.map((h) => `${prefix}${h.node}/${h.name}`);
  return [...workloads, ...hosts];
}

const EXPECTED = [
  ...endpointNames(undefined, LOCAL_DEMO),
  ...endpointNames(EAST_CLUSTER, EAST_DEMO),
  ...endpointNames(WEST_CLUSTER, WEST_DEMO),
].sort();

async function connect(url: string): Promise<BusConnection & AsyncDisposable> {
  const nc = await connectBus({ servers: [url], name: "stack-test" });
  return Object.assign(nc, { [Symbol.asyncDispose]: () => nc.close() });
}

/** Waits until the query service reports `_local` and both demo remotes InSync. */
async function waitInSync(nc: BusConnection): Promise<StatusResult> {
  return waitFor(
    async () => {
      const answer = await requestService<QueryAnswer<StatusResult>>(nc, querySubject("status"), {});
      const statuses = new Map(answer.result.clusters.map((row) => [row.cluster, row.status]));
      const all = ["_local", EAST_CLUSTER, WEST_CLUSTER].every((c) => statuses.get(c) === "InSync");
      return all ? answer.result : undefined;
    },
    { timeout: TIMEOUTS.eventually * 3, message: "every cluster InSync in the query service's status" },
  );
}

async function evalAll(nc: BusConnection): Promise<EvalResult> {
  return (await requestService<QueryAnswer<EvalResult>>(nc, querySubject("eval"), { selector: "all()" })).result;
}

describe("the local stack with the demo", () => {
  it("federates three clusters, stops without leftovers, and comes back with the same view on the same state dir", async () => {
    await using dir = await tempDir();
    let printed = "";
    const stdout = { write: (text: string) => (printed += text) };
    let nats: string;
    let pids: number[];
    {
      await using stack = await createLocalStack({ stateDir: dir.path, demo: true, stdout });
      expect(stack.sync).toMatchObject({ inSync: true, clusters: ["_local", EAST_CLUSTER, WEST_CLUSTER] });
      nats = stack.urls.nats;
      pids = [stack.processes.nats, stack.processes.etcd!, stack.processes.eastEtcd!];
      expect(pids.every(alive)).toBe(true);

      await using nc = await connect(nats);
      await waitInSync(nc);
      const result = await evalAll(nc);
      expect(result.endpoints.map((e) => e.display_name).sort()).toEqual(EXPECTED);
      // Remote endpoints name their cluster; local ones do not.
      for (const e of result.endpoints) {
        const cluster = e.display_name.startsWith(`${EAST_CLUSTER}/`)
          ? EAST_CLUSTER
          : e.display_name.startsWith(`${WEST_CLUSTER}/`)
            ? WEST_CLUSTER
            : undefined;
        expect(e.remote_cluster).toBe(cluster);
      }
      // A local policy's rules match endpoints of every cluster.
      const policy = await requestService<QueryAnswer<PolicyResult>>(nc, querySubject("policy"), {
        name: "security.payments-from-federation",
      });
      const matched = policy.result.endpoints_match_policy.map((e) => e.display_name);
      expect(matched).toContain(`${EAST_CLUSTER}/east-node-2/k8s/checkout.checkout-5c8d7f9b6-tx4lp/eth0`);
      expect(matched).toContain(`${WEST_CLUSTER}/west-node-1/k8s/checkout.checkout-6b7c8d9f5-2kq9x/eth0`);
      expect(matched).toContain("hub-node-2/k8s/payments.ledger-0/eth0");

      // Every metrics endpoint printed answers, and says which clusters its service holds.
      for (const url of Object.values(stack.urls.metrics)) {
        expect(printed).toContain(`${url}/metrics`);
        const response = await fetch(`${url}/metrics`);
        expect(response.status).toBe(200);
        await response.text();
      }
      const connector = await (await fetch(`${stack.urls.metrics.k8sConnector}/metrics`)).text();
      expect(connector).toMatch(
        new RegExp(`remote_cluster_connection_status\\{[^}]*remote_cluster_name="${WEST_CLUSTER}"[^}]*\\} 2`),
      );

      expect(printed).toContain(`export FEDVIEW_NATS_URL=${nats}`);
      expect(printed).toContain('npx fedview eval "all()"');
      expect(printed).toContain("npx fedview policy security.payments-from-federation");
      expect(printed).toContain("clusterAccessSecret calico-system/cluster-west-access");
    }

    // Stopped: the servers are gone, nothing runs on the state dir, the state is still there.
    expect(pids.filter(alive)).toEqual([]);
    expect(processesUsing(dir.path)).toEqual([]);
    expect(existsSync(join(dir.path, "stack.pid"))).toBe(false);
    expect(printed).toContain(`Stopped; the state stays in ${dir.path}.`);

    await using again = await createLocalStack({ stateDir: dir.path, demo: true });
    expect(again.urls.nats).toBe(nats);
    expect(again.sync.inSync).toBe(true);
    await using nc = await connect(again.urls.nats);
    expect((await evalAll(nc)).endpoints.map((e) => e.display_name).sort()).toEqual(EXPECTED);
  });

  it("runs as the README's command and stops every process on SIGINT", async () => {
    await using dir = await tempDir();
    const stateDir = join(dir.path, "state");
    // `npx tsx services/stack/src/main.ts`, with the workspace packages taken from their sources.
    const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", mainTs, "--state-dir", stateDir], {
      cwd: root,
      env: { ...process.env, TSX_TSCONFIG_PATH: await sourcesTsconfig(dir.path) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let printed = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      printed += chunk.toString();
    });
    child.stderr!.resume();
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitFor(() => printed.includes("Ctrl-C stops everything"), {
        timeout: TIMEOUTS.eventually * 4,
        message: `the stack to print its summary; so far:\n${printed}`,
      });
      expect(printed).toContain("fedview is up: every cluster is InSync.");
      const url = /export FEDVIEW_NATS_URL=(\S+)/.exec(printed)?.[1];
      expect(url).toBeDefined();
      const { children } = JSON.parse(readFileSync(join(stateDir, "stack.pid"), "utf8")) as { children: number[] };
      expect(children.length).toBe(3);
      {
        await using nc = await connect(url!);
        expect((await evalAll(nc)).endpoints.map((e) => e.display_name).sort()).toEqual(EXPECTED);
      }

      child.kill("SIGINT");
      expect(await exited).toBe(0);
      expect(children.filter(alive)).toEqual([]);
      expect(processesUsing(stateDir)).toEqual([]);
      expect(printed).toContain(`Stopped; the state stays in ${stateDir}.`);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
