/**
 * deploy/k8s/make-remote-kubeconfig.sh, run with the real kubectl against testkit's Kubernetes API test
 * server standing in for a remote cluster on which deploy/k8s/remote was applied: the ServiceAccount
 * exists with the manifests' grants, and its token Secret is filled in as the token controller does.
 * The kubeconfig it writes is then used by @kubernetes/client-node, as the k8s connector would.
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateClusterAccessSecret } from "@fedview/model";
import { type KubeApiServer, type KubeTokenUser, startKubeApiServer } from "@fedview/testkit";
import { ApiException, CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { validateManifest } from "./support/kube-openapi.js";
import { find, loadManifests, MANIFEST_SETS, type Manifest, rulesOf } from "./support/manifests.js";
import { readRepoFile, repoPath } from "./support/repo.js";

const SCRIPT = repoPath("deploy/k8s/make-remote-kubeconfig.sh");
const remote = loadManifests(MANIFEST_SETS.remote);
const tokenSecret = find(remote, "Secret", "fedview-remote-token", "fedview")!;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** kubectl comes with this machine kind's image; without it the script cannot be tested for real. */
function kubectlVersion(): string {
  const run = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
  if (run.status !== 0) {
    throw new Error(`these tests run the real kubectl, which is not usable here: ${run.error?.message ?? run.stderr}`);
  }
  return run.stdout;
}

describe("make-remote-kubeconfig.sh", () => {
  let server: KubeApiServer;
  let account: KubeTokenUser;
  let scratch: string;
  let adminKubeconfig: string;
  let context: string;

  /** Runs the script as an operator would, with an admin kubeconfig for the "remote" cluster. */
  function run(args: string[]): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        SCRIPT,
        args,
        {
          env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: scratch, KUBECONFIG: adminKubeconfig },
          timeout: 60_000,
        },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  /** The token Secret of deploy/k8s/remote as Kubernetes fills it in (or not yet, without `token`). */
  function putTokenSecret(
    data: Record<string, string> | undefined,
    name = "fedview-remote-token",
    sa = "fedview-remote",
  ) {
    const secret: Manifest = structuredClone(tokenSecret);
    secret.metadata.name = name;
    secret.metadata.annotations = { ...secret.metadata.annotations, "kubernetes.io/service-account.name": sa };
    const body = {
      ...secret,
      ...(data
        ? { data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])) }
        : {}),
    };
    const existing = server.get("secrets", name, "fedview");
    if (existing)
      server.update("secrets", {
        ...body,
        metadata: { ...body.metadata, resourceVersion: existing.metadata.resourceVersion },
      });
    else server.create("secrets", body);
  }

  beforeAll(async () => {
    kubectlVersion();
    scratch = mkdtempSync(join(tmpdir(), "fedview-kubeconfig-"));
    server = await startKubeApiServer({ namespaces: ["default", "kube-system", "fedview"], clusterName: "remote-a" });
    server.create("serviceaccounts", find(remote, "ServiceAccount", "fedview-remote", "fedview")!);
    account = server.addServiceAccountUser("fedview", "fedview-remote");
    server.grant(account.name, rulesOf(remote, "fedview", "fedview-remote"));
    putTokenSecret({ token: account.token, "ca.crt": server.ca });
    server.create("pods", {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "frontend-1", namespace: "default" },
      spec: { nodeName: "node1", containers: [{ name: "web", image: "nginx" }] },
    });
    adminKubeconfig = await server.writeKubeconfig({ path: join(scratch, "admin.kubeconfig") });
    context = (parseYaml(readFileSync(adminKubeconfig, "utf8")) as { "current-context": string })["current-context"];
  });
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it("prints its usage with --help and documents every option it takes", async () => {
    const result = await run(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: make-remote-kubeconfig\.sh \[options\]/);
    const documented = [...result.stdout.matchAll(/^ {2}(?:-h, )?(--[a-z-]+)/gm)].map((m) => m[1]).sort();
    const source = readRepoFile("deploy/k8s/make-remote-kubeconfig.sh");
    const parsed = [...new Set([...source.matchAll(/^\s+(?:-h \| )?(--[a-z-]+)[ )|]/gm)].map((m) => m[1]))].sort();
    expect(documented).toEqual(parsed);
  });

  it("runs under bash with errexit, nounset and pipefail", () => {
    const source = readRepoFile("deploy/k8s/make-remote-kubeconfig.sh");
    expect(source.split("\n")[0]).toBe("#!/usr/bin/env bash");
    expect(source).toMatch(/^set -euo pipefail$/m);
    expect(statSync(SCRIPT).mode & 0o111).not.toBe(0);
    expect(spawnSync("bash", ["-n", SCRIPT]).status).toBe(0);
  });

  it.each([
    [["--bogus"], /unknown argument "--bogus"/],
    [["--namespace"], /--namespace needs a value/],
    [["--wait", "soon"], /--wait takes a whole number of seconds/],
    [["--as-secret", "no-slash"], /--as-secret takes NAMESPACE\/NAME/],
  ])("refuses %j with exit code 2 before talking to any cluster", async (args, message) => {
    const before = server.requests().length;
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(server.requests()).toHaveLength(before);
  });

  it("writes a kubeconfig that authenticates as the ServiceAccount, verified, with mode 0600", async () => {
    const output = join(scratch, "remote-a.kubeconfig");
    const result = await run(["--context", context, "--verify", "--output", output]);
    expect(result.stderr).toContain("verified: ServiceAccount fedview/fedview-remote can list pods");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    expect(statSync(output).mode & 0o777).toBe(0o600);

    const kc = new KubeConfig();
    kc.loadFromString(readFileSync(output, "utf8"));
    expect(kc.getCurrentCluster()).toMatchObject({ name: "remote-a", server: server.url });
    expect(kc.getCurrentCluster()?.caData).toBe(Buffer.from(server.ca).toString("base64"));
    expect(kc.getCurrentUser()).toMatchObject({ name: "fedview-remote@remote-a", token: account.token });

    const core = kc.makeApiClient(CoreV1Api);
    const pods = await core.listPodForAllNamespaces();
    expect(pods.items.map((p) => p.metadata?.name)).toEqual(["frontend-1"]);
    const denied = await core.listNamespacedSecret({ namespace: "fedview" }).catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(ApiException);
    expect((denied as ApiException<unknown>).code).toBe(403);
  });

  it("prints, with --as-secret, a Secret an RCC's clusterAccessSecret can name, valid for the model", async () => {
    const result = await run(["--context", context, "--as-secret", "fedview/remote-a-access"]);
    expect(result.code).toBe(0);
    const secret = parseYaml(result.stdout) as Manifest & { data: Record<string, string> };
    const { creationTimestamp: _null, ...metadata } = secret.metadata as Record<string, unknown>;
    expect(validateManifest({ ...secret, metadata })).toEqual([]);
    expect(secret.metadata).toMatchObject({ name: "remote-a-access", namespace: "fedview" });
    const data = Object.fromEntries(
      Object.entries(secret.data).map(([key, value]) => [key, Buffer.from(value, "base64").toString("utf8")]),
    );
    expect(Object.keys(data).sort()).toEqual(["datastoreType", "kubeconfig"]);
    expect(validateClusterAccessSecret(data)).toMatchObject({ success: true, data: { datastoreType: "kubernetes" } });
    const kc = new KubeConfig();
    kc.loadFromString(data["kubeconfig"]!);
    expect(kc.getCurrentUser()?.token).toBe(account.token);
  });

  it("writes the API address given with --server and names the entries after --cluster-name", async () => {
    const result = await run([
      "--context",
      context,
      "--server",
      "https://remote-a.example.net:6443",
      "--cluster-name",
      "remote-a-public",
    ]);
    expect(result.code).toBe(0);
    const kc = new KubeConfig();
    kc.loadFromString(result.stdout);
    expect(kc.getCurrentCluster()).toMatchObject({
      name: "remote-a-public",
      server: "https://remote-a.example.net:6443",
    });
    expect(kc.getCurrentContext()).toBe("remote-a-public");
  });

  it("waits for the token controller to fill the Secret in", async () => {
    putTokenSecret(undefined, "late-token");
    const pending = run(["--context", context, "--secret", "late-token", "--wait", "20"]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    putTokenSecret({ token: account.token, "ca.crt": server.ca }, "late-token");
    const result = await pending;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`token: "${account.token}"`);
  });

  it("says when the token never comes", async () => {
    putTokenSecret(undefined, "empty-token");
    const result = await run(["--context", context, "--secret", "empty-token", "--wait", "0"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Secret fedview/empty-token has no token after 0s");
    expect(result.stdout).toBe("");
  });

  it("refuses the token Secret of another ServiceAccount", async () => {
    putTokenSecret({ token: "other", "ca.crt": server.ca }, "admin-token", "cluster-admin-sa");
    const result = await run(["--context", context, "--secret", "admin-token"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('holds the token of ServiceAccount "cluster-admin-sa", not "fedview-remote"');
    expect(result.stdout).toBe("");
  });

  it("says to apply deploy/k8s/remote when the Secret is missing", async () => {
    const result = await run(["--context", context, "--secret", "nope"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("cannot read Secret fedview/nope");
    expect(result.stderr).toContain("apply deploy/k8s/remote there first");
  });

  it("fails --verify when the ServiceAccount lacks the grant", async () => {
    const other = server.addServiceAccountUser("fedview", "ungranted");
    putTokenSecret({ token: other.token, "ca.crt": server.ca }, "ungranted-token", "ungranted");
    const result = await run([
      "--context",
      context,
      "--service-account",
      "ungranted",
      "--secret",
      "ungranted-token",
      "--verify",
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("the new kubeconfig cannot list pods");
    expect(result.stdout).toBe("");
  });
});
