/**
 * Both modes on real servers give identical output: the same federation in a real local etcd (with an
 * RCC for a real remote etcd) answered in-process (the CLI reads the datastores itself, as calicoq
 * does) and by the query service on a real nats-server fed by the etcd connector's sources through
 * ClusterSync. Both must also equal the golden output of the hand-fed view. Then a remote goes down:
 * both modes report it the calicoq way on stderr and exit 1.
 */
import { waitFor } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/index.js";
import { type Datastores, putResources, type QueryStack, rcc, startDatastores, startQueryStack } from "./federation.js";
import { Capture, type CliRun, runOn } from "./harness.js";

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

async function run(argv: string[], env: Record<string, string>): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(argv, {
    invokedAs: "calicoq",
    stdout,
    stderr,
    env,
    cwd: "/",
    signal: new AbortController().signal,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/** In-process: calicoctl's environment, and a `-c` file that does not exist (so the environment is used). */
const inProcess = (argv: string[]) => run(["-c", "/nonexistent/calicoctl.cfg", ...argv], datastores.env);
const viaNats = (argv: string[]) => run(argv, { FEDVIEW_NATS_URL: stack.nats.url });

const QUERIES: string[][] = [
  ["eval", 'app == "api"'],
  ["eval", "pcns.env == 'production'", "-o", "json"],
  ["eval", "has(host-endpoint)", "-o", "yaml"],
  ["eval", "projectcalico.org/serviceaccount == 'api'"],
  ["policy", "prod/default.allow-api"],
  ["policy", "security.block-external", "-s", "-o", "json"],
  ["policy", "allow-dns", "-r", "-o", "yaml"],
  ["policy", "host-untracked", "-rs"],
  ["policy", "no-such-policy"],
  ["endpoint", "api", "-o", "yaml"],
  ["endpoint", "node-a-eth0"],
  ["endpoint", "frontend", "-s", "-o", "json"],
  ["host", "node-1"],
  ["host", "east/node-a", "-r", "-o", "json"],
  ["host", "node-2", "-s", "-o", "yaml"],
];

describe("in-process and NATS modes", () => {
  it.each(QUERIES)("%s %s %s %s %s give identical output, equal to the golden view's", async (...argv) => {
    const [local, nats, golden] = await Promise.all([inProcess(argv), viaNats(argv), runOn(argv)]);
    expect(local).toEqual(golden);
    expect(nats).toEqual(golden);
    expect(golden.code).toBe(0);
  });

  it("an invalid selector is refused identically by both", async () => {
    const argv = ["eval", "has(a) &&"];
    const [local, nats] = await Promise.all([inProcess(argv), viaNats(argv)]);
    expect(local).toEqual(nats);
    expect(local.code).toBe(1);
    expect(local.stdout).toBe('Invalid selector: "has(a) &&". unexpected end of string looking for op.\n');
  });
});

/** Cuts the etcd client's wording after `etcd <url>: ` (grpc words a refused connection differently per attempt). */
function withoutClientDetail(stderr: string): string {
  return stderr.replace(/(failed: etcd \S+: ).*$/gm, "$1…");
}

describe("a remote cluster is down", () => {
  beforeAll(async () => {
    await putResources(datastores.local, [rcc("west", datastores.deadUrl)]);
    stack.addCluster("west", datastores.deadUrl);
  });

  it.each([[["eval", "has(app)"]], [["host", "node-1", "-o", "json"]], [["policy", "prod/default.allow-api", "-r"]]])(
    "%j: both modes answer from what is there, report the cluster on stderr and exit 1",
    async (argv) => {
      const golden = await runOn(argv);
      const local = await inProcess(argv);
      expect(local.stdout).toBe(golden.stdout);
      expect(local.code).toBe(1);
      expect(local.stderr).toMatch(
        /^The following problems were encountered connecting to the remote clusters\nwhich may have resulted in incomplete data:\n- {2}RemoteClusterConfiguration\(west\): connection to remote cluster failed: .+\n$/,
      );
      // The query service learns of the failure from west's published status.
      const nats = await waitFor(async () => {
        const run = await viaNats(argv);
        return run.code === 1 ? run : undefined;
      });
      expect(nats.stdout).toBe(golden.stdout);
      // The same block; only the etcd client's own wording of the failure may vary between attempts.
      expect(withoutClientDetail(nats.stderr)).toBe(withoutClientDetail(local.stderr));
      expect(withoutClientDetail(local.stderr)).toBe(
        "The following problems were encountered connecting to the remote clusters\n" +
          "which may have resulted in incomplete data:\n" +
          `-  RemoteClusterConfiguration(west): connection to remote cluster failed: etcd ${datastores.deadUrl}: …\n`,
      );
      expect(nats.code).toBe(1);
    },
  );
});
