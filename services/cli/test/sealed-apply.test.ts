/**
 * `fedview apply` over NATS seals the documents to the config service's advertised key: on a real
 * nats-server, a subscriber to every subject records each byte on the bus while an RCC with a password
 * is applied, and the password is nowhere in it, yet the config service stored it. A service that
 * advertises no key, and replicas with different keys, are refused with the fix before anything is sent.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BusConnection, CONFIG_SERVICE_NAME, connectBus, createSealingKeyPair, serveService } from "@fedview/bus";
import { type ConfigService, createConfigService, readConfigServiceConfig } from "@fedview/config-service";
import { type EtcdServer, type NatsServer, startEtcd, startNats } from "@fedview/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/index.js";
import { Capture, type CliRun } from "./harness.js";

const PASSWORD = "sealed-apply-pw-5c07e9a2";

let dir: string;
let etcd: EtcdServer;
let nats: NatsServer;
let service: ConfigService;
let sniffer: BusConnection;
const seen: { subject: string; bytes: Buffer }[] = [];

function startService(natsUrl: string): ConfigService {
  return createConfigService(
    readConfigServiceConfig({
      DATASTORE_TYPE: "etcdv3",
      ETCD_ENDPOINTS: etcd.url,
      FEDVIEW_NATS_URL: natsUrl,
      FEDVIEW_CONNECTOR_XKEY_PUBLIC: createSealingKeyPair().getPublicKey(),
      FEDVIEW_METRICS_PORT: "off",
      FEDVIEW_LOG_LEVEL: "silent",
    }),
    { logger: pino({ level: "silent" }) },
  );
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fedview-cli-sealed-"));
  etcd = await startEtcd();
  nats = await startNats({ jetstream: true });
  sniffer = await connectBus({ servers: nats.url });
  // Every message on the bus, headers included: requests, replies, JetStream deliveries.
  sniffer.subscribe(">", {
    callback: (err, msg) => {
      if (err !== null) return;
      seen.push({ subject: msg.subject, bytes: Buffer.concat([Buffer.from(msg.headers?.toString() ?? ""), msg.data]) });
    },
  });
  await sniffer.flush();
  service = startService(nats.url);
  await service.start();
});

afterAll(async () => {
  await sniffer?.close();
  await service?.[Symbol.asyncDispose]();
  await nats?.[Symbol.asyncDispose]();
  await etcd?.[Symbol.asyncDispose]();
  await rm(dir, { recursive: true, force: true });
});

async function apply(url: string, content: string): Promise<CliRun> {
  const file = join(dir, "rcc.yaml");
  await writeFile(file, content);
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(["-c", "/absent", "apply", "-f", file], {
    invokedAs: "fedview",
    stdout,
    stderr,
    env: { FEDVIEW_NATS_URL: url },
    cwd: dir,
    signal: new AbortController().signal,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

function rcc(name: string, endpoints = "https://10.0.0.1:2379"): string {
  return [
    "apiVersion: projectcalico.org/v3",
    "kind: RemoteClusterConfiguration",
    `metadata: { name: ${name} }`,
    "spec:",
    "  datastoreType: etcdv3",
    `  etcdEndpoints: ${endpoints}`,
    "  etcdUsername: reader",
    `  etcdPassword: ${PASSWORD}`,
    "",
  ].join("\n");
}

/** Subjects of the recorded messages since `from` that carry `needle`. */
async function carrying(from: number, needle: string): Promise<string[]> {
  await sniffer.flush();
  return seen.slice(from).flatMap((m) => (m.bytes.includes(needle) ? [m.subject] : []));
}

describe("fedview apply over NATS", () => {
  it("seals the documents: no password byte on the bus, and the service stored the RCC", async () => {
    const from = seen.length;
    const run = await apply(nats.url, rcc("sealed"));
    expect(run).toEqual({ code: 0, stdout: "remoteclusterconfiguration/sealed created\n", stderr: "" });
    await sniffer.flush();
    const sent = seen.slice(from);
    const request = sent.find((m) => m.subject === "fedview.v1.config.apply");
    expect(request, "the apply request was recorded").toBeDefined();
    const text = request!.bytes.toString();
    const body = JSON.parse(text.slice(text.indexOf("{"))) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(["sealed"]);
    expect(sent.some((m) => m.subject === `$SRV.INFO.${CONFIG_SERVICE_NAME}`)).toBe(true);
    expect(await carrying(from, PASSWORD)).toEqual([]);
    expect(await carrying(from, "etcdPassword")).toEqual([]);
    // The service opened it: the local datastore holds the password the file gave.
    const stored = await etcd.etcdctl(
      "get",
      "--prefix",
      "/calico/resources/v3/projectcalico.org/remoteclusterconfigurations/sealed",
    );
    expect(stored).toContain(PASSWORD);
  });

  it("keeps a password typed into an invalid endpoint URL off the bus, the reply included", async () => {
    const from = seen.length;
    const run = await apply(nats.url, rcc("leaky", `https://reader:${PASSWORD}@10.0.0.1:2379`));
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/spec\.etcdEndpoints: .*must not contain a user name or password/);
    expect(run.stderr).not.toContain(PASSWORD);
    expect(await carrying(from, PASSWORD)).toEqual([]);
  });

  it("refuses, before sending, an input too large for one NATS message once sealed", async () => {
    const from = seen.length;
    // 900 kB fits under the server's 1 MiB max_payload in clear, but not once sealed and base64-encoded.
    const run = await apply(nats.url, `${rcc("large").trimEnd()}\n  note: ${"n".repeat(900 * 1024)}\n`);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^the input is too large: sealed, it takes \d+ bytes, which exceeds the NATS server's max_payload of 1048576 bytes; split it into several files and apply each\n$/,
    );
    await sniffer.flush();
    expect(seen.slice(from).filter((m) => m.subject === "fedview.v1.config.apply")).toEqual([]);
  });

  it("refuses a config service that advertises no sealing key, sending nothing", async () => {
    await using bare = await startNats({ jetstream: false });
    await using nc = await connectBus({ servers: bare.url });
    const requests = nc.subscribe("fedview.v1.config.apply");
    // A config service of a version that takes only clear documents: the same service name, no key.
    await using _old = await serveService(nc, { name: CONFIG_SERVICE_NAME, version: "0.0.1", endpoints: {} });
    const run = await apply(bare.url, rcc("unsealed"));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(
      /^the fedview config service \(instance \S+\) advertises no sealingPublicKey in its service metadata, so fedview apply cannot seal the documents, which may carry passwords or tokens; nothing was sent\. Upgrade config-service/,
    );
    await nc.flush();
    expect(requests.getProcessed()).toBe(0);
  });

  it("refuses replicas that advertise different keys, naming FEDVIEW_CONFIG_XKEY_SEED", async () => {
    const second = startService(nats.url);
    try {
      await second.start();
      const from = seen.length;
      const run = await apply(nats.url, rcc("split"));
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        "the fedview config service's 2 instances advertise 2 different sealing keys, so an apply sealed to one could reach another that cannot open it; nothing was sent. Give every config-service replica the same FEDVIEW_CONFIG_XKEY_SEED\n",
      );
      await sniffer.flush();
      expect(seen.slice(from).filter((m) => m.subject === "fedview.v1.config.apply")).toEqual([]);
    } finally {
      await second[Symbol.asyncDispose]();
    }
  });

  it("says so when no config service answers", async () => {
    await using bare = await startNats({ jetstream: false });
    const run = await apply(bare.url, rcc("nobody"));
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `no fedview config service answers on ${bare.url} (no service answers on $SRV.INFO.${CONFIG_SERVICE_NAME}); start config-service, or run without --nats/FEDVIEW_NATS_URL to apply to the local datastore directly\n`,
    );
  });
});
