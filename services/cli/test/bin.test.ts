/**
 * The built binaries, spawned as a user runs them (`npx calicoq`, `npx fedview` resolve to these
 * links after `npm ci && npm run build`): they answer against a real etcd and exit on their own, with
 * calicoq's exit codes.
 */
import { execFile, spawn as spawnChild } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { encodeEtcdResource } from "@fedview/model";
import { startEtcd, waitFor } from "@fedview/testkit";
import { beforeAll, describe, expect, it } from "vitest";
import { localResources } from "./fixtures.js";

const run = promisify(execFile);
const root = join(import.meta.dirname, "../../..");
const bin = (name: string) => join(root, "node_modules/.bin", name);

beforeAll(async () => {
  // The root test script builds every project before the tests; build here too when run alone.
  if (!existsSync(join(import.meta.dirname, "../dist/src/index.js"))) {
    await run(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-b", "services/cli"], { cwd: root });
  }
}, 300_000);

async function spawn(name: string, args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(bin(name), args, {
      env: { PATH: process.env["PATH"] ?? "", ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

describe("the built binaries", () => {
  it("calicoq answers from a real etcd and exits", async () => {
    await using etcd = await startEtcd();
    for (const resource of localResources()) {
      const { key, value } = encodeEtcdResource(resource);
      await etcd.etcdctl("put", key, value);
    }
    const env = { DATASTORE_TYPE: "etcdv3", ETCD_ENDPOINTS: etcd.url };
    expect(await spawn("calicoq", ["-c", "/absent", "eval", "app == 'api'"], env)).toEqual({
      code: 0,
      stdout:
        "Endpoints matching selector app == 'api':\n  Workload endpoint node-1/k8s/prod.api-5f9/eth0\n  Workload endpoint node-2/k8s/dev.api-6c1/eth0\n",
      stderr: "",
    });
    expect(await spawn("calicoq", ["eval", "a b", "-c", "/absent"], env)).toEqual({
      code: 1,
      stdout: 'Invalid selector: "a b". expected operator after label "a".\n',
      stderr: "a b\n  ^\n",
    });
  });

  it("fedview prints its version and help", async () => {
    const version = await spawn("fedview", ["version"], {});
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^Version: {6}0\.1\.0\nBuild date: {3}\S+\nNode\.js: {6}v/);
    const help = await spawn("fedview", ["--help"], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: fedview [options] [command]");
  });

  it("fedview watch streams until SIGINT, then exits 0", async () => {
    await using etcd = await startEtcd();
    for (const resource of localResources()) {
      const { key, value } = encodeEtcdResource(resource);
      await etcd.etcdctl("put", key, value);
    }
    const child = spawnChild(bin("fedview"), ["-c", "/absent", "watch", "app == 'db'"], {
      env: { PATH: process.env["PATH"] ?? "", ETCD_ENDPOINTS: etcd.url },
    });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await waitFor(() => stdout.includes("+ Workload endpoint"), { timeout: 30_000 });
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(stdout).toBe(
      "Watching endpoints matching selector app == 'db':\n+ Workload endpoint node-2/k8s/prod.db-0/eth0\n",
    );
  });
});
