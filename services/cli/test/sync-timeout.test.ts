/**
 * In-process mode waits for the clusters at most `--sync-timeout`: a remote that accepts connections
 * but never answers is still connecting when the time is up, and calicoq's problem block says so.
 */
import { createServer, type Socket } from "node:net";
import { startEtcd } from "@fedview/testkit";
import { describe, expect, it } from "vitest";
import { runCli } from "../src/index.js";
import { putResources, rcc } from "./federation.js";
import { localResources } from "./fixtures.js";
import { Capture } from "./harness.js";

/** A TCP server that accepts and then says nothing, like a remote behind a black-holing firewall. */
async function silentServer(): Promise<{ url: string } & AsyncDisposable> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    async [Symbol.asyncDispose]() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("--sync-timeout", () => {
  it("answers when the time is up and reports the remote still connecting", async () => {
    await using etcd = await startEtcd();
    await using silent = await silentServer();
    await putResources(etcd, [...localResources(), rcc("slow", silent.url)]);
    const stdout = new Capture();
    const stderr = new Capture();
    const started = Date.now();
    const code = await runCli(["--sync-timeout", "2s", "-c", "/absent", "eval", "app == 'db'"], {
      invokedAs: "calicoq",
      stdout,
      stderr,
      env: { ETCD_ENDPOINTS: etcd.url },
      cwd: "/",
    });
    const elapsed = Date.now() - started;
    expect(stdout.text).toBe(
      "Endpoints matching selector app == 'db':\n  Workload endpoint node-2/k8s/prod.db-0/eth0\n",
    );
    expect(stderr.text).toBe(
      "The following problems were encountered connecting to the remote clusters\n" +
        "which may have resulted in incomplete data:\n" +
        "-  RemoteClusterConfiguration(slow): still connecting to remote cluster\n",
    );
    expect(code).toBe(1);
    // Bounded by the timeout, not by the remote (give the process start and teardown some slack).
    expect(elapsed).toBeGreaterThanOrEqual(2_000);
    expect(elapsed).toBeLessThan(15_000);
  });
});
