/** Helpers shared by the stack's tests: temp dirs, process checks, ports off the well-known ones. */
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "@fedview/testkit";
import type { StackPorts } from "../src/index.js";

/** A temp dir removed at the end of the test. */
export async function tempDir(prefix = "fedview-stack-"): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Every live process whose command line names `dir` (Linux /proc). */
export function processesUsing(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ");
      if (cmdline.includes(dir)) found.push(`${entry} ${cmdline}`);
    } catch {
      // Exited meanwhile.
    }
  }
  return found;
}

/**
 * Ports from the ephemeral range for the servers and services of a stack without the demo: tests that
 * run beside the demo test never probe the well-known ports it may be taking.
 */
export async function ephemeralPorts(): Promise<Partial<StackPorts>> {
  const [nats, natsMonitor, etcd, etcdPeer, queryMetrics, configMetrics, etcdConnectorMetrics, k8sConnectorMetrics] =
    (await freePorts(8)) as [number, number, number, number, number, number, number, number];
  return {
    nats,
    natsMonitor,
    etcd,
    etcdPeer,
    queryMetrics,
    configMetrics,
    etcdConnectorMetrics,
    k8sConnectorMetrics,
  };
}
