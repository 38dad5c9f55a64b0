/**
 * `fedview apply|get|delete` for RemoteClusterConfigurations, in both modes on real servers: straight
 * into the local etcd (in-process, calicoctl's way) and through the config service's RPC on a real
 * nats-server. Both give the same output. Invalid input lists every issue with its field path, and
 * nothing is written.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { createSealingKeyPair } from "@fedview/bus";
import { type ConfigService, createConfigService, readConfigServiceConfig } from "@fedview/config-service";
import { type EtcdServer, type NatsServer, startEtcd, startNats } from "@fedview/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../src/index.js";
import { Capture, type CliRun } from "./harness.js";

type Mode = "in-process" | "nats";

let dir: string;
const servers: Record<Mode, { etcd: EtcdServer; env: Record<string, string> }> = {} as never;
let nats: NatsServer;
let service: ConfigService;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "fedview-cli-rcc-"));
  const localEtcd = await startEtcd();
  const natsEtcd = await startEtcd();
  nats = await startNats({ jetstream: true });
  service = createConfigService(
    readConfigServiceConfig({
      DATASTORE_TYPE: "etcdv3",
      ETCD_ENDPOINTS: natsEtcd.url,
      FEDVIEW_NATS_URL: nats.url,
      FEDVIEW_CONNECTOR_XKEY_PUBLIC: createSealingKeyPair().getPublicKey(),
      FEDVIEW_METRICS_PORT: "off",
      FEDVIEW_LOG_LEVEL: "silent",
    }),
    { logger: pino({ level: "silent" }) },
  );
  await service.start();
  servers["in-process"] = { etcd: localEtcd, env: { ETCD_ENDPOINTS: localEtcd.url } };
  servers.nats = { etcd: natsEtcd, env: { FEDVIEW_NATS_URL: nats.url } };
});

afterAll(async () => {
  await service?.[Symbol.asyncDispose]();
  await nats?.[Symbol.asyncDispose]();
  for (const s of Object.values(servers)) await s.etcd[Symbol.asyncDispose]();
  await rm(dir, { recursive: true, force: true });
});

async function fedview(mode: Mode, ...argv: string[]): Promise<CliRun> {
  return fedviewWithInput(mode, undefined, ...argv);
}

async function fedviewWithInput(mode: Mode, stdin: string | undefined, ...argv: string[]): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(["-c", "/absent", ...argv], {
    invokedAs: "fedview",
    stdout,
    stderr,
    ...(stdin === undefined ? {} : { stdin: Readable.from([stdin]) }),
    env: servers[mode].env,
    cwd: dir,
    signal: new AbortController().signal,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

async function file(name: string, content: string): Promise<string> {
  await writeFile(join(dir, name), content);
  return name;
}

async function storedKeys(mode: Mode): Promise<string[]> {
  const out = await servers[mode].etcd.etcdctl(
    "get",
    "--prefix",
    "--keys-only",
    "/calico/resources/v3/projectcalico.org/remoteclusterconfigurations/",
  );
  return out.split("\n").filter((l) => l !== "");
}

const TWO_RCCS = `apiVersion: projectcalico.org/v3
kind: RemoteClusterConfiguration
metadata:
  name: east
spec:
  datastoreType: etcdv3
  etcdEndpoints: https://10.0.0.1:2379,https://10.0.0.2:2379
  etcdUsername: fedview
  etcdPassword: s3cret
---
apiVersion: projectcalico.org/v3
kind: RemoteClusterConfiguration
metadata:
  name: west
spec:
  datastoreType: kubernetes
  kubeconfig: /etc/fedview/west.kubeconfig
`;

const INVALID = `apiVersion: projectcalico.org/v3
kind: RemoteClusterConfiguration
metadata:
  name: North_1
spec:
  datastoreType: etcdv3
---
apiVersion: projectcalico.org/v3
kind: RemoteClusterConfiguration
metadata:
  name: south
spec:
  datastoreType: kubernetes
  kubeconfig: /k
  etcdEndpoints: http://10.0.0.3:2379
`;

describe.each<Mode>(["in-process", "nats"])("RCCs (%s)", (mode) => {
  it("invalid input: every issue with its field path, nothing written", async () => {
    const run = await fedview(mode, "apply", "-f", await file("invalid.yaml", INVALID));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(`The input holds invalid RemoteClusterConfigurations; nothing was written:
  documents[0].metadata.name: name "North_1" is not valid: use only lower-case letters, digits and "-", starting and ending with a letter or digit, at most 63 characters (the name becomes the "<name>/" prefix of the cluster's endpoints)
  documents[0].spec.etcdEndpoints: etcdEndpoints is required when datastoreType is "etcdv3": a comma-separated list of URLs such as "https://10.0.0.1:2379"
  documents[1].spec.etcdEndpoints: etcdEndpoints is an etcd setting and only valid with datastoreType "etcdv3", not "kubernetes"; remove it
`);
    expect(await storedKeys(mode)).toEqual([]);
  });

  it("apply creates each RCC and reports it; again, unchanged; changed, configured", async () => {
    const name = await file("two.yaml", TWO_RCCS);
    expect(await fedview(mode, "apply", "-f", name)).toEqual({
      code: 0,
      stdout: "remoteclusterconfiguration/east created\nremoteclusterconfiguration/west created\n",
      stderr: "",
    });
    expect((await fedview(mode, "apply", "-f", name)).stdout).toBe(
      "remoteclusterconfiguration/east unchanged\nremoteclusterconfiguration/west unchanged\n",
    );
    const json = await file(
      "west.json",
      JSON.stringify({
        apiVersion: "projectcalico.org/v3",
        kind: "RemoteClusterConfiguration",
        metadata: { name: "west" },
        spec: { datastoreType: "kubernetes", k8sAPIEndpoint: "https://10.0.0.9:6443" },
      }),
    );
    expect((await fedview(mode, "apply", "-f", json)).stdout).toBe("remoteclusterconfiguration/west configured\n");
    expect(await storedKeys(mode)).toEqual([
      "/calico/resources/v3/projectcalico.org/remoteclusterconfigurations/east",
      "/calico/resources/v3/projectcalico.org/remoteclusterconfigurations/west",
    ]);
  });

  it("get lists them as a table, or one as yaml/json with secrets redacted", async () => {
    expect(await fedview(mode, "get", "remoteclusterconfigurations")).toEqual({
      code: 0,
      stdout: `NAME   DATASTORE    CONNECTS TO
east   etcdv3       https://10.0.0.1:2379,https://10.0.0.2:2379
west   kubernetes   https://10.0.0.9:6443
`,
      stderr: "",
    });
    const yaml = await fedview(mode, "get", "rcc", "east", "-o", "yaml");
    expect(yaml.code).toBe(0);
    expect(yaml.stdout).toMatch(
      /^apiVersion: projectcalico.org\/v3\nkind: RemoteClusterConfiguration\nmetadata:\n {2}name: east\n/,
    );
    expect(yaml.stdout).toContain('  etcdPassword: "[REDACTED]"\n');
    expect(yaml.stdout).not.toContain("s3cret");
    const list = JSON.parse((await fedview(mode, "get", "remoteclusterconfigurations", "-o", "json")).stdout) as {
      kind: string;
      items: { metadata: { name: string } }[];
    };
    expect(list.kind).toBe("RemoteClusterConfigurationList");
    expect(list.items.map((i) => i.metadata.name)).toEqual(["east", "west"]);
  });

  it("delete removes one; a missing one is calicoctl's error", async () => {
    expect(await fedview(mode, "delete", "remoteclusterconfiguration", "west")).toEqual({
      code: 0,
      stdout: "remoteclusterconfiguration/west deleted\n",
      stderr: "",
    });
    expect(await fedview(mode, "delete", "remoteclusterconfiguration", "west")).toEqual({
      code: 1,
      stdout: "",
      stderr: "resource does not exist: RemoteClusterConfiguration(west)\n",
    });
    expect(await fedview(mode, "get", "rcc", "west")).toEqual({
      code: 1,
      stdout: "",
      stderr: "resource does not exist: RemoteClusterConfiguration(west)\n",
    });
    expect(await storedKeys(mode)).toEqual(["/calico/resources/v3/projectcalico.org/remoteclusterconfigurations/east"]);
  });

  it("apply -f - reads a JSON List from stdin", async () => {
    const list = {
      apiVersion: "v1",
      kind: "List",
      items: ["south", "north"].map((name) => ({
        apiVersion: "projectcalico.org/v3",
        kind: "RemoteClusterConfiguration",
        metadata: { name },
        spec: { datastoreType: "etcdv3", etcdEndpoints: `https://${name}.example:2379` },
      })),
    };
    expect(await fedviewWithInput(mode, JSON.stringify(list), "apply", "-f", "-")).toEqual({
      code: 0,
      stdout: "remoteclusterconfiguration/south created\nremoteclusterconfiguration/north created\n",
      stderr: "",
    });
    for (const name of ["south", "north"]) {
      expect((await fedview(mode, "delete", "rcc", name)).code).toBe(0);
    }
  });

  it("other kinds are refused", async () => {
    const run = await fedview(mode, "get", "pods");
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(
      'Resource type "pods" is not supported: fedview manages remoteclusterconfigurations (or rcc) only\n',
    );
  });

  it("never shows a secret stored straight into the datastore: a numeric password, a token, a URL's password", async () => {
    const key = "/calico/resources/v3/projectcalico.org/remoteclusterconfigurations/raw";
    const raw = {
      apiVersion: "projectcalico.org/v3",
      kind: "RemoteClusterConfiguration",
      metadata: { name: "raw" },
      spec: {
        datastoreType: "etcdv3",
        etcdEndpoints: "https://10.0.0.5:2379, https://fedview:url-pw-6152@10.0.0.6:2379",
        etcdUsername: "fedview",
        etcdPassword: 739182465,
        k8sAPIEndpoint: "https://admin:api-pw-8841@10.0.0.7:6443",
        k8sAPIToken: "token-3c1f77",
      },
    };
    await servers[mode].etcd.etcdctl("put", key, JSON.stringify(raw));
    const shown = [
      await fedview(mode, "get", "rcc", "raw", "-o", "yaml"),
      await fedview(mode, "get", "rcc", "-o", "json"),
      await fedview(mode, "delete", "rcc", "raw"),
    ];
    expect(shown.map((r) => r.code)).toEqual([0, 0, 0]);
    const text = shown.map((r) => r.stdout + r.stderr).join("");
    for (const secret of ["739182465", "url-pw-6152", "api-pw-8841", "token-3c1f77"])
      expect(text).not.toContain(secret);
    expect(shown[0]!.stdout).toContain("  etcdEndpoints: https://10.0.0.5:2379,https://[REDACTED]@10.0.0.6:2379\n");
    expect(shown[0]!.stdout).toContain('  etcdPassword: "[REDACTED]"\n');
  });

  it("apply of what get shows keeps the stored password in place of [REDACTED]", async () => {
    const rcc = (password: string) =>
      `apiVersion: projectcalico.org/v3\nkind: RemoteClusterConfiguration\nmetadata:\n  name: kept\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: https://10.0.0.8:2379\n  etcdUsername: fedview\n  etcdPassword: ${password}\n`;
    expect((await fedview(mode, "apply", "-f", await file("kept.yaml", rcc("kept-pw-0193")))).code).toBe(0);
    const shown = await fedview(mode, "get", "rcc", "kept", "-o", "yaml");
    expect(shown.stdout).toContain('etcdPassword: "[REDACTED]"');
    expect(await fedview(mode, "apply", "-f", await file("kept-shown.yaml", shown.stdout))).toEqual({
      code: 0,
      stdout: "remoteclusterconfiguration/kept unchanged\n",
      stderr: "",
    });
    const stored = await servers[mode].etcd.etcdctl(
      "get",
      "--print-value-only",
      "/calico/resources/v3/projectcalico.org/remoteclusterconfigurations/kept",
    );
    expect(stored).toContain("kept-pw-0193");
    expect(stored).not.toContain("[REDACTED]");
    expect((await fedview(mode, "delete", "rcc", "kept")).code).toBe(0);
  });
});
