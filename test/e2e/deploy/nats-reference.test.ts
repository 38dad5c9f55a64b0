/**
 * The reference NATS cluster (deploy/k8s/nats): its nats.conf is checked by the real nats-server
 * (`-t`), and agrees with the StatefulSet — routes to every replica, ports, storage and pid file.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { find, loadManifests, MANIFEST_SETS, workloads } from "./support/manifests.js";

const manifests = loadManifests(MANIFEST_SETS.local);
const configMap = find(manifests, "ConfigMap", "nats-config", "fedview")!;
const conf = (configMap["data"] as Record<string, string>)["nats.conf"]!;
const statefulSet = find(manifests, "StatefulSet", "nats", "fedview")!;
const spec = statefulSet["spec"] as { replicas: number; serviceName: string };
const workload = workloads(manifests).find((w) => w.manifest === statefulSet)!;
const container = workload.pod.containers[0]!;

function natsServer(args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      "nats-server",
      args,
      { env: { PATH: process.env["PATH"] ?? "", ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        resolve({
          code: error === null ? 0 : typeof error.code === "number" ? error.code : -1,
          output: stdout + stderr,
        });
      },
    );
  });
}

describe("the reference NATS cluster", () => {
  const scratch = mkdtempSync(join(tmpdir(), "fedview-nats-conf-"));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it("has a configuration nats-server accepts, with the pod name as server name", async () => {
    const file = join(scratch, "nats.conf");
    writeFileSync(file, conf);
    const valid = await natsServer(["-t", "-c", file], { POD_NAME: "nats-0" });
    expect(valid.output).toContain("is valid");
    expect(valid.code).toBe(0);
    // The same check fails when the pod name is not in the environment: the env var is really used.
    const missing = await natsServer(["-t", "-c", file], {});
    expect(missing.code).not.toBe(0);
    expect(missing.output).toContain("POD_NAME");
    expect(container.env?.find((e) => e.name === "POD_NAME")?.valueFrom?.fieldRef?.fieldPath).toBe("metadata.name");
  });

  it("routes to every replica through the headless Service", () => {
    const routes = [...conf.matchAll(/nats:\/\/([a-z0-9.-]+):6222/g)].map((m) => m[1]);
    const expected = Array.from({ length: spec.replicas }, (_, i) => `nats-${i}.${spec.serviceName}.fedview.svc`);
    expect(routes).toEqual(expected);
    const headless = find(manifests, "Service", spec.serviceName, "fedview")!["spec"] as Record<string, unknown>;
    expect(headless).toMatchObject({ clusterIP: "None", publishNotReadyAddresses: true });
  });

  it("listens on the ports the container declares, and keeps JetStream data and the pid file on mounts", () => {
    const ports = Object.fromEntries((container.ports ?? []).map((p) => [p.name, p.containerPort]));
    expect(conf).toContain(`listen: 0.0.0.0:${ports["client"]}`);
    expect(conf).toContain(`http: 0.0.0.0:${ports["monitor"]}`);
    expect(conf).toContain(`listen: 0.0.0.0:${ports["cluster"]}`);
    const mounts = Object.fromEntries((container.volumeMounts ?? []).map((m) => [m.name, m.mountPath]));
    expect(conf).toContain(`store_dir: ${mounts["data"]}`);
    const pidFile = /pid_file: (\S+)/.exec(conf)?.[1];
    expect(pidFile?.startsWith(`${mounts["pid"]}/`)).toBe(true);
    const preStop = (container as { lifecycle?: { preStop?: { exec?: { command: string[] } } } }).lifecycle?.preStop;
    expect(preStop?.exec?.command).toEqual(["nats-server", "--signal", `ldm=${pidFile}`]);
    expect(container.livenessProbe?.httpGet?.path).toBe("/healthz?js-enabled-only=true");
  });
});
