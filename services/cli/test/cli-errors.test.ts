/**
 * calicoq's error contract (calico.md §8) and remote problem reporting, through `runCli`: bad `-o`,
 * invalid selectors (message on stdout, caret excerpt on stderr), empty and unknown policy names, and
 * the stderr block with exit 1 when remote clusters are connecting, failed or mid-sync.
 */
import { FederatedView } from "@fedview/query-service";
import { describe, expect, it } from "vitest";
import { eastResources, eventsFor, LOCAL_CLUSTER, localResources, statusOf } from "./fixtures.js";
import { fixtureView, runOn } from "./harness.js";

describe("output format", () => {
  it.each([
    [["eval", "all()", "-o", "xml"], "xml"],
    [["policy", "allow-dns", "--output=table"], "table"],
    [["endpoint", "x", "-oJSON"], "JSON"],
    [["host", "node-1", "-rs", "-o", ""], ""],
  ])("%j is refused with calicoq's message", async (argv, format) => {
    const run = await runOn(argv);
    expect(run.stdout).toBe(
      `Output Format: "${format}" is not valid. Output Format must be one of json, yaml, or ps\n`,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
  });
});

describe("invalid selectors", () => {
  it.each([
    ["a b", 'Invalid selector: "a b". expected operator after label "a".\n', "a b\n  ^\n"],
    ['foo == "bar" &', 'Invalid selector: "foo == "bar" &". expected &&.\n', 'foo == "bar" &\n             ^\n'],
    ["has (a)", 'Invalid selector: "has (a)". expected operator after label "has".\n', "has (a)\n    ^\n"],
  ])("eval %j prints calicoq's message and exits 1", async (selector, stdout, stderr) => {
    const run = await runOn(["eval", selector]);
    expect(run.stdout).toBe(stdout);
    expect(run.stderr).toBe(stderr);
    expect(run.code).toBe(1);
  });
});

describe("policy names", () => {
  it("an empty name is refused", async () => {
    const run = await runOn(["policy", ""]);
    expect(run).toEqual({ code: 1, stdout: "The policy-name must be specified.\n", stderr: "" });
  });

  it.each([["no-such-policy"], ["prod/no-such-policy"], ["-o", "json", "nope"]])(
    "an unknown policy (%j) prints nothing and exits 0",
    async (...args) => {
      const run = await runOn(["policy", ...args]);
      expect(run).toEqual({ code: 0, stdout: "", stderr: "" });
    },
  );

  it("a default-tier policy is found with or without its tier prefix", async () => {
    const [bare, tiered] = await Promise.all([
      runOn(["policy", "allow-dns", "-r"]),
      runOn(["policy", "default.allow-dns", "-r"]),
    ]);
    expect(bare.stdout).toMatch(/^Policy "default.allow-dns" applies to these endpoints:\n/);
    expect(tiered.stdout).toBe(bare.stdout);
  });
});

function viewWithProblems(): FederatedView {
  const view = fixtureView();
  view.applyClusterStatus(
    statusOf("west", "ConnectionFailed", { error: "dial tcp 10.9.0.1:2379: connect: connection refused", stale: true }),
  );
  view.applyClusterStatus(statusOf("north", "Connecting"));
  view.applyClusterStatus(statusOf("south", "ResyncInProgress"));
  // calicoq does not warn about these two.
  view.applyClusterStatus(statusOf("bad", "ConfigIncomplete", { error: "spec.etcdEndpoints: required" }));
  view.applyClusterStatus(statusOf("old", "ConfigChangeRestartRequired"));
  return view;
}

const PROBLEMS = `The following problems were encountered connecting to the remote clusters
which may have resulted in incomplete data:
-  RemoteClusterConfiguration(north): still connecting to remote cluster
-  RemoteClusterConfiguration(south): data synchronization did not complete
-  RemoteClusterConfiguration(west): connection to remote cluster failed: dial tcp 10.9.0.1:2379: connect: connection refused
`;

describe("remote problems", () => {
  it.each([
    [["eval", "has(host-endpoint)"]],
    [["eval", "has(host-endpoint)", "-o", "json"]],
    [["policy", "platform.audit", "-r"]],
    [["endpoint", "node-a-eth0", "-o", "yaml"]],
    [["host", "node-2"]],
  ])("%j prints its answer, then the problems on stderr, and exits 1", async (argv) => {
    const clean = await runOn(argv);
    const run = await runOn(argv, viewWithProblems());
    expect(clean.code).toBe(0);
    expect(run.stdout).toBe(clean.stdout);
    expect(run.stdout).not.toBe("");
    expect(run.stderr).toBe(PROBLEMS);
    expect(run.code).toBe(1);
  });

  it("an unknown policy still reports the problems", async () => {
    const run = await runOn(["policy", "nope"], viewWithProblems());
    expect(run).toEqual({ code: 1, stdout: "", stderr: PROBLEMS });
  });

  it("ConfigIncomplete and ConfigChangeRestartRequired alone are not reported", async () => {
    const view = fixtureView();
    view.applyClusterStatus(statusOf("bad", "ConfigIncomplete", { error: "spec.etcdEndpoints: required" }));
    const run = await runOn(["eval", "app == 'db'"], view);
    expect(run).toEqual({
      code: 0,
      stdout: "Endpoints matching selector app == 'db':\n  Workload endpoint node-2/k8s/prod.db-0/eth0\n",
      stderr: "",
    });
  });
});

describe("command line", () => {
  it("flags may come before the command and after positionals, short flags combine", async () => {
    const reference = await runOn([
      "endpoint",
      "api-5f9",
      "--hide-selectors",
      "--hide-rule-matches",
      "--output",
      "yaml",
    ]);
    for (const argv of [
      ["-d", "endpoint", "-rs", "api-5f9", "-o", "yaml"],
      ["endpoint", "api-5f9", "-sro", "yaml"],
      ["endpoint", "-r", "api-5f9", "-s", "--output=yaml"],
    ]) {
      const run = await runOn(argv);
      expect(run.stdout).toBe(reference.stdout);
      expect(run.code).toBe(0);
    }
  });

  it("a missing argument prints commander's usage error and exits 1", async () => {
    const run = await runOn(["eval"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe("error: missing required argument 'selector'\n");
  });

  it("--help teaches both modes, the environment and examples", async () => {
    const run = await runOn(["--help"], undefined, "fedview");
    expect(run.code).toBe(0);
    for (const text of [
      "eval",
      "policy",
      "endpoint",
      "host",
      "status",
      "watch",
      "apply",
      "get",
      "delete",
      "Modes:",
      "FEDVIEW_NATS_URL",
      "DATASTORE_TYPE",
      "ETCD_ENDPOINTS",
      "KUBECONFIG",
      "Examples:",
    ]) {
      expect(run.stdout).toContain(text);
    }
  });

  it("calicoq offers only calicoq's commands", async () => {
    const run = await runOn(["status"], undefined, "calicoq");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("unknown command 'status'");
  });

  it("version prints the package version", async () => {
    const run = await runOn(["version"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Version: {6}0\.1\.0\nNode\.js: {6}v\d+\.\d+\.\d+\nPlatform: {5}\S+\n$/);
  });

  it("eval on an empty view prints only the heading", async () => {
    const view = new FederatedView();
    for (const e of eventsFor(LOCAL_CLUSTER, localResources().slice(0, 2))) view.applyResourceEvent(e);
    expect((await runOn(["eval", "has(app)"], view)).stdout).toBe("Endpoints matching selector has(app):\n");
    expect((await runOn(["eval", "has(app)", "-o", "json"], view)).stdout).toBe(
      '[\n  {\n    "description": "Endpoints matching selector has(app)"\n  }\n]\n',
    );
    expect((await runOn(["eval", "has(app)", "-o", "yaml"], view)).stdout).toBe(
      "- description: Endpoints matching selector has(app)\n",
    );
    void eastResources;
  });
});
