/**
 * `fedview status` and `fedview watch` in both modes on real servers: the cluster table, json, `--wait`
 * with its progress display (redrawn on a terminal, plain lines otherwise) and its timeout while a
 * remote is down; a watch streaming matches as pods come and go in a remote etcd, until interrupted.
 */
import { encodeEtcdResource, type Pod, podToWorkloadEndpoint, toEtcdKey } from "@fedview/model";
import { waitFor } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/index.js";
import { type Datastores, putResources, type QueryStack, rcc, startDatastores, startQueryStack } from "./federation.js";
import { Capture, type CliRun } from "./harness.js";

let datastores: Datastores;
let stack: QueryStack;

beforeAll(async () => {
  datastores = await startDatastores();
  stack = await startQueryStack(datastores);
});

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
  await datastores?.[Symbol.asyncDispose]();
});

type Mode = "in-process" | "nats";
const MODES: Mode[] = ["in-process", "nats"];

function envOf(mode: Mode): Record<string, string> {
  return mode === "nats" ? { FEDVIEW_NATS_URL: stack.nats.url } : datastores.env;
}

async function fedview(
  mode: Mode,
  argv: string[],
  options: { tty?: boolean; signal?: AbortSignal; stdout?: Capture; stderr?: Capture } = {},
): Promise<CliRun> {
  const stdout = options.stdout ?? new Capture();
  const stderr = options.stderr ?? new Capture();
  stderr.isTTY = options.tty === true;
  const code = await runCli(["-c", "/absent", ...argv], {
    invokedAs: "fedview",
    stdout,
    stderr,
    env: envOf(mode),
    cwd: "/",
    signal: options.signal ?? new AbortController().signal,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

const ISO = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";

describe.each(MODES)("status (%s)", (mode) => {
  it("prints one row per cluster with status, endpoints and last sync", async () => {
    const run = await fedview(mode, ["status"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const lines = run.stdout.split("\n");
    expect(lines[0]).toMatch(/^CLUSTER +STATUS +ENDPOINTS +STALE SINCE +LAST SYNC +ERROR$/);
    expect(lines[1]).toMatch(new RegExp(`^_local +InSync +6 +- +${ISO}$`));
    expect(lines[2]).toMatch(new RegExp(`^east +InSync +3 +- +${ISO}$`));
    expect(lines.slice(3)).toEqual([""]);
  });

  it("-o json gives the rows", async () => {
    const run = await fedview(mode, ["status", "-o", "json"]);
    const rows = JSON.parse(run.stdout) as {
      cluster: string;
      status: string;
      workloadEndpoints: number;
      hostEndpoints: number;
      policies: number;
    }[];
    expect(rows.map((r) => [r.cluster, r.status, r.workloadEndpoints, r.hostEndpoints, r.policies])).toEqual([
      ["_local", "InSync", 4, 2, 6],
      ["east", "InSync", 2, 1, 0],
    ]);
  });

  it("--wait returns at once when every cluster is in sync", async () => {
    const run = await fedview(mode, ["status", "--wait", "--timeout", "20s", "-o", "yaml"]);
    expect(run.code).toBe(0);
    // In-process the clusters start out Connecting; each change of progress is one plain line.
    const lines = run.stderr.trimEnd().split("\n");
    for (const line of lines) expect(line).toMatch(/^waiting for sync: [0-2]\/2 clusters in sync, [0-9.]+s elapsed/);
    expect(lines.at(-1)).toMatch(/^waiting for sync: 2\/2 clusters in sync, [0-9.]+s elapsed$/);
    expect(run.stdout).toMatch(/^- cluster: _local\n/);
  });
});

describe.each(MODES)("watch (%s)", (mode) => {
  it("streams matches as pods come and go in a remote cluster, until interrupted", async () => {
    const controller = new AbortController();
    const stdout = new Capture();
    const done = fedview(mode, ["watch", "app == 'api'"], { signal: controller.signal, stdout });
    await waitFor(() => stdout.text.split("\n").length >= 5, { timeout: 30_000 });
    expect(stdout.text).toBe(`Watching endpoints matching selector app == 'api':
+ Workload endpoint east/node-a/k8s/prod.api-e1/eth0
+ Workload endpoint node-1/k8s/prod.api-5f9/eth0
+ Workload endpoint node-2/k8s/dev.api-6c1/eth0
`);
    const pod = podToWorkloadEndpoint({
      metadata: { name: `api-${mode === "nats" ? "n" : "i"}1`, namespace: "prod", labels: { app: "api" } },
      spec: { nodeName: "node-a", serviceAccountName: "api" },
      status: { phase: "Running", podIPs: [{ ip: "10.1.0.9" }] },
    } as unknown as Pod)!;
    const { key, value } = encodeEtcdResource(pod);
    await datastores.east.etcdctl("put", key, value);
    await waitFor(() => stdout.text.includes(`prod.api-${mode === "nats" ? "n" : "i"}1/eth0`), { timeout: 30_000 });
    await datastores.east.etcdctl("del", toEtcdKey("WorkloadEndpoint", { namespace: "prod", name: pod.metadata.name }));
    await waitFor(() => stdout.text.includes("- Workload endpoint"), { timeout: 30_000 });
    controller.abort();
    const run = await done;
    expect(run.code).toBe(0);
    expect(stdout.text.split("\n").slice(4)).toEqual([
      `+ Workload endpoint east/node-a/k8s/prod.api-${mode === "nats" ? "n" : "i"}1/eth0`,
      `- Workload endpoint east/node-a/k8s/prod.api-${mode === "nats" ? "n" : "i"}1/eth0`,
      "",
    ]);
  });
});

describe("a remote cluster is down", () => {
  beforeAll(async () => {
    await putResources(datastores.local, [rcc("west", datastores.deadUrl)]);
    stack.addCluster("west", datastores.deadUrl);
    await waitFor(() => stack.service.view.status().find((r) => r.cluster === "west")?.status === "ConnectionFailed");
  });

  it.each(MODES)("status shows it with its error (%s)", async (mode) => {
    const run = await fedview(mode, ["status"]);
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[3]).toMatch(
      /^west +ConnectionFailed +0 +- +- +etcd http:\/\/127\.0\.0\.1:\d+: \S.*$/,
    );
  });

  it.each(MODES)("status --wait shows plain progress lines and times out with a clear message (%s)", async (mode) => {
    const run = await fedview(mode, ["status", "--wait", "--timeout", "2s"]);
    expect(run.code).toBe(1);
    const lines = run.stderr.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^waiting for sync: [0-3]\/3 clusters in sync, [0-9.]+s elapsed; /);
    expect(lines.at(-1)).toMatch(
      /^timed out after 2s waiting for every cluster to sync; not in sync: west: ConnectionFailed \(etcd http:\/\/127\.0\.0\.1:\d+: .*\)$/,
    );
    expect(run.stdout).toMatch(/^CLUSTER .*\n_local .*\neast .*\nwest +ConnectionFailed/);
  });

  it("on a terminal the progress line is redrawn in place", async () => {
    const run = await fedview("nats", ["status", "--wait", "--timeout", "1s"], { tty: true });
    expect(run.code).toBe(1);
    const REDRAW = "\r\u001b[2K";
    expect(run.stderr.startsWith(REDRAW)).toBe(true);
    expect(run.stderr.slice(REDRAW.length)).toMatch(
      /^waiting for sync: 2\/3 clusters in sync, 0\.0s elapsed; west: ConnectionFailed/,
    );
    expect(run.stderr.split("\r\u001b[2K").length).toBeGreaterThan(2);
  });
});

describe("a remote cluster goes down during a watch", () => {
  it.each(MODES)(
    "the watch reports it on stderr as it happens, and keeps streaming (%s)",
    { timeout: 120_000 },
    async (mode) => {
      const controller = new AbortController();
      const stdout = new Capture();
      const stderr = new Capture();
      const done = fedview(mode, ["watch", "app == 'db'"], { signal: controller.signal, stdout, stderr });
      await waitFor(() => stdout.text.includes("+ Workload endpoint node-2/k8s/prod.db-0/eth0"), { timeout: 30_000 });
      const before = stderr.text;
      await datastores.east.stop();
      try {
        // ClusterSync notices through its watch or its liveness check (every 10 s).
        await waitFor(() => stderr.text.slice(before.length).includes("RemoteClusterConfiguration(east)"), {
          timeout: 45_000,
        });
      } finally {
        await datastores.east.start();
      }
      expect(stderr.text.slice(before.length)).toMatch(
        /The following problems were encountered connecting to the remote clusters\nwhich may have resulted in incomplete data:\n- {2}RemoteClusterConfiguration\(east\): connection to remote cluster failed: /,
      );
      controller.abort();
      expect((await done).code).toBe(0);
      // East's data is kept while it is down: stale, not retracted.
      expect(stdout.text).toBe(
        "Watching endpoints matching selector app == 'db':\n+ Workload endpoint node-2/k8s/prod.db-0/eth0\n",
      );
    },
  );
});
