import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type BusConnection,
  type ClusterStatusMessage,
  ConflictError,
  connectBus,
  InvalidRequestError,
  NotFoundError,
  subscribeClusterStatus,
} from "@fedview/bus";
import {
  createTlsMaterial,
  type EtcdServer,
  type NatsServer,
  startEtcd,
  startNats,
  type TlsMaterial,
  uniqueName,
  waitFor,
} from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import type { ApplyResponse } from "../src/handlers/apply.js";
import type { ListResponse } from "../src/handlers/list.js";
import type { RccObject } from "../src/types.js";
import { collect } from "./helpers.js";
import {
  callConfig,
  createKeys,
  type Keys,
  type RunningService,
  runService,
  serviceConfig,
  watchConnections,
} from "./service-harness.js";

const KEY_PREFIX = "/calico/resources/v3/projectcalico.org/remoteclusterconfigurations/";
const PASSWORD = "etcd-pw-3c1f2a";

function rcc(name: string, spec: Record<string, unknown>, resourceVersion?: string) {
  return {
    apiVersion: "projectcalico.org/v3",
    kind: "RemoteClusterConfiguration",
    metadata: { name, ...(resourceVersion ? { resourceVersion } : {}) },
    spec,
  };
}

describe("config service on an etcd v3 datastore", () => {
  let etcd: EtcdServer;
  let nats: NatsServer;
  let keys: Keys;
  let running: RunningService;
  let client: BusConnection;
  let dir: string;
  let tls: TlsMaterial;

  const etcdSpec = (extra: Record<string, unknown> = {}) => ({
    datastoreType: "etcdv3",
    etcdEndpoints: "https://10.9.0.1:2379",
    ...extra,
  });

  beforeAll(async () => {
    [etcd, nats] = await Promise.all([startEtcd(), startNats()]);
    keys = createKeys();
    dir = await mkdtemp(join(tmpdir(), "fedview-cs-"));
    tls = await createTlsMaterial("remote");
    running = await runService(
      serviceConfig(nats, keys, { datastoreType: "etcdv3", etcd: { endpoints: etcd.endpoints } }),
    );
    client = await connectBus({ servers: nats.url, name: "cli" });
  });
  afterAll(async () => {
    await client?.[Symbol.asyncDispose]();
    await running?.[Symbol.asyncDispose]();
    await Promise.all([etcd?.[Symbol.asyncDispose](), nats?.[Symbol.asyncDispose]()]);
    await rm(dir, { recursive: true, force: true });
    if (tls) await rm(tls.authority.dir, { recursive: true, force: true });
  });

  it("applies a YAML file of several RCCs, reporting each result, and stores them at Calico's keys", async () => {
    const [a, b] = [uniqueName("a"), uniqueName("b")];
    const documents = [stringify(rcc(a, etcdSpec())), stringify(rcc(b, etcdSpec({ etcdPassword: PASSWORD })))].join(
      "---\n",
    );
    const first = await callConfig<ApplyResponse>(client, "apply", { documents });
    expect(first.items.map((i) => [i.name, i.result])).toEqual([
      [a, "created"],
      [b, "created"],
    ]);
    expect(first.created).toBe(2);
    const stored = JSON.parse(await etcd.etcdctl("get", `${KEY_PREFIX}${b}`, "--print-value-only")) as RccObject;
    expect(stored.spec["etcdPassword"]).toBe(PASSWORD);

    const again = await callConfig<ApplyResponse>(client, "apply", { documents });
    expect(again.items.map((i) => i.result)).toEqual(["unchanged", "unchanged"]);

    const changed = await callConfig<ApplyResponse>(client, "apply", {
      objects: [{ kind: "List", items: [rcc(a, etcdSpec({ etcdEndpoints: "https://10.9.0.2:2379" }))] }],
    });
    expect(changed.items).toEqual([{ name: a, result: "updated", resourceVersion: expect.any(String) }]);
  });

  it("applies JSON too", async () => {
    const name = uniqueName("j");
    const result = await callConfig<ApplyResponse>(client, "apply", {
      documents: JSON.stringify(rcc(name, etcdSpec())),
    });
    expect(result.items).toEqual([{ name, result: "created", resourceVersion: expect.any(String) }]);
  });

  it("gets and lists RCCs with their resourceVersion and the password redacted", async () => {
    const name = uniqueName("g");
    await callConfig<ApplyResponse>(client, "apply", { objects: [rcc(name, etcdSpec({ etcdPassword: PASSWORD }))] });
    const got = await callConfig<RccObject>(client, "get", { name });
    expect(got.spec["etcdPassword"]).toBe("[REDACTED]");
    expect(got.metadata.resourceVersion).toMatch(/^\d+$/);
    const list = await callConfig<ListResponse>(client, "list");
    expect(list.kind).toBe("RemoteClusterConfigurationList");
    const listed = list.items.find((i) => i.metadata.name === name);
    expect(listed?.spec["etcdPassword"]).toBe("[REDACTED]");
    expect(JSON.stringify(list)).not.toContain(PASSWORD);
    await expect(callConfig(client, "get", { name: uniqueName("missing") })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("keeps the stored password when a redacted copy from get is applied back", async () => {
    const name = uniqueName("r");
    await callConfig<ApplyResponse>(client, "apply", { objects: [rcc(name, etcdSpec({ etcdPassword: PASSWORD }))] });
    const got = await callConfig<RccObject>(client, "get", { name });
    const { resourceVersion: _drop, ...metadata } = got.metadata;
    const result = await callConfig<ApplyResponse>(client, "apply", { objects: [{ ...got, metadata }] });
    expect(result.items[0]?.result).toBe("unchanged");
    const stored = JSON.parse(await etcd.etcdctl("get", `${KEY_PREFIX}${name}`, "--print-value-only")) as RccObject;
    expect(stored.spec["etcdPassword"]).toBe(PASSWORD);
  });

  it("refuses a stale resourceVersion with a conflict and keeps what is stored", async () => {
    const name = uniqueName("s");
    const created = await callConfig<ApplyResponse>(client, "apply", { objects: [rcc(name, etcdSpec())] });
    const stale = created.items[0]?.resourceVersion;
    await callConfig<ApplyResponse>(client, "apply", {
      objects: [rcc(name, etcdSpec({ etcdEndpoints: "https://10.9.0.3:2379" }))],
    });
    const result = await callConfig<ApplyResponse>(client, "apply", {
      objects: [rcc(name, etcdSpec({ etcdEndpoints: "https://10.9.0.4:2379" }), stale)],
    });
    expect(result.items[0]).toMatchObject({ name, result: "failed", error: { name: "ConflictError", code: 409 } });
    expect(result.failed).toBe(1);
    const got = await callConfig<RccObject>(client, "get", { name });
    expect(got.spec["etcdEndpoints"]).toBe("https://10.9.0.3:2379");
    await expect(callConfig(client, "delete", { name, resourceVersion: stale })).rejects.toBeInstanceOf(ConflictError);
  });

  it("rejects invalid input with every issue and its field path, writing nothing", async () => {
    const good = uniqueName("ok");
    const documents = [
      stringify(rcc(good, etcdSpec())),
      stringify(rcc("Bad_Name", { datastoreType: "etcdv3", etcdEndpoints: "10.0.0.1:2379", k8sAPIToken: "t" })),
      stringify({ kind: "List", items: [rcc(uniqueName("x"), { datastoreType: "kubernetes" })] }),
    ].join("---\n");
    const failure = await callConfig(client, "apply", { documents }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InvalidRequestError);
    const paths = (failure as InvalidRequestError).issues.map((i) => i.path).sort();
    expect(paths).toEqual([
      "documents[1].metadata.name",
      "documents[1].spec.etcdEndpoints",
      "documents[1].spec.k8sAPIToken",
      "documents[2].items[0].spec.kubeconfig",
    ]);
    expect(await etcd.etcdctl("get", `${KEY_PREFIX}${good}`)).toBe("");
  });

  it("rejects unparsable YAML, a YAML alias bomb and duplicate names, writing nothing", async () => {
    const bomb = [
      "a: &a [x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
      "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]",
    ].join("\n");
    const cases: [string, string, RegExp][] = [
      [
        "kind: RemoteClusterConfiguration\nmetadata: {name: x\n",
        "documents[0]",
        /^not valid YAML or JSON \(line \d+, column \d+\)/,
      ],
      [bomb, "documents[0]", /alias/i],
      [
        [stringify(rcc("dup", etcdSpec())), stringify(rcc("dup", etcdSpec()))].join("---\n"),
        "documents[1].metadata.name",
        /"dup" is also defined at documents\[0\]/,
      ],
    ];
    for (const [documents, path, message] of cases) {
      const failure = await callConfig(client, "apply", { documents }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(InvalidRequestError);
      expect((failure as InvalidRequestError).issues).toEqual([{ path, message: expect.stringMatching(message) }]);
    }
    expect(await etcd.etcdctl("get", `${KEY_PREFIX}dup`)).toBe("");
  });

  it("deletes an RCC, and answers 404 for one that does not exist", async () => {
    const name = uniqueName("d");
    await callConfig<ApplyResponse>(client, "apply", { objects: [rcc(name, etcdSpec({ etcdPassword: PASSWORD }))] });
    const deleted = await callConfig<RccObject>(client, "delete", { name });
    expect(deleted.metadata.name).toBe(name);
    expect(deleted.spec["etcdPassword"]).toBe("[REDACTED]");
    expect(await etcd.etcdctl("get", `${KEY_PREFIX}${name}`)).toBe("");
    await expect(callConfig(client, "delete", { name })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("publishes the resolved material (file contents, sealed) and withdraws it when the RCC is deleted", async () => {
    await using view = await watchConnections(nats, keys);
    const name = uniqueName("p");
    await callConfig<ApplyResponse>(client, "apply", {
      objects: [
        rcc(
          name,
          etcdSpec({
            etcdUsername: "fed",
            etcdPassword: PASSWORD,
            etcdCertFile: tls.client.certFile,
            etcdKeyFile: tls.client.keyFile,
            etcdCACertFile: tls.caFile,
          }),
        ),
      ],
    });
    const config = await waitFor(() => view.latest(name), { message: "the connection config" });
    expect(config).toMatchObject({ status: "valid", datastoreType: "etcdv3", cluster: name });
    expect(config.spec).toEqual({ etcdEndpoints: ["https://10.9.0.1:2379"], overlayRoutingMode: "Disabled" });
    expect(view.open(config)).toEqual({
      etcdUsername: "fed",
      etcdPassword: PASSWORD,
      etcdCert: tls.client.cert,
      etcdKey: tls.client.key,
      etcdCACert: tls.ca,
    });
    await callConfig(client, "delete", { name });
    await waitFor(() => view.changes.some((c) => c.type === "delete" && c.cluster === name), {
      message: "the deletion to reach the connector",
    });
    expect(await view.store.get("etcdv3", name)).toBeNull();
  });

  it("republishes a rotated certificate file as a new generation, without restart", async () => {
    await using view = await watchConnections(nats, keys);
    const name = uniqueName("rot");
    const certFile = join(dir, `${name}.crt`);
    const keyFile = join(dir, `${name}.key`);
    await writeFile(certFile, tls.client.cert);
    await writeFile(keyFile, tls.client.key);
    await callConfig<ApplyResponse>(client, "apply", {
      objects: [rcc(name, etcdSpec({ etcdCertFile: certFile, etcdKeyFile: keyFile }))],
    });
    const before = await waitFor(() => view.latest(name), { message: "the first config" });
    const rotated = await tls.authority.issue("remote-rotated");
    await writeFile(certFile, rotated.cert);
    const after = await waitFor(
      () => {
        const latest = view.latest(name);
        return latest && latest.generation > before.generation ? latest : undefined;
      },
      { message: "a new generation after the rotation" },
    );
    expect(view.open(after)["etcdCert"]).toBe(rotated.cert);
    expect(view.open(after)["etcdKey"]).toBe(tls.client.key);
  });

  it("publishes ConfigIncomplete naming the field for an unreadable file, and recovers when it appears", async () => {
    await using view = await watchConnections(nats, keys);
    const name = uniqueName("inc");
    const statuses: ClusterStatusMessage[] = collect(subscribeClusterStatus(client, { cluster: name }));
    await client.flush();
    const caFile = join(dir, `${name}-ca.crt`);
    await callConfig<ApplyResponse>(client, "apply", { objects: [rcc(name, etcdSpec({ etcdCACertFile: caFile }))] });
    const invalid = await waitFor(() => view.latest(name), { message: "the invalid config" });
    const error = `spec.etcdCACertFile: cannot read ${caFile}: ENOENT (no such file)`;
    expect(invalid).toMatchObject({ status: "invalid", error });
    await waitFor(() => statuses.length > 0, { message: "the ConfigIncomplete status" });
    expect(statuses[0]).toMatchObject({ op: "upsert", status: "ConfigIncomplete", error });

    await writeFile(caFile, tls.ca);
    const valid = await waitFor(() => (view.latest(name)?.status === "valid" ? view.latest(name) : undefined), {
      message: "the config to become valid once the file exists",
    });
    expect(valid.generation).toBeGreaterThan(invalid.generation);
    expect(view.open(valid)["etcdCACert"]).toBe(tls.ca);
  });

  it("publishes ConfigIncomplete for an RCC written straight into etcd that fails validation", async () => {
    await using view = await watchConnections(nats, keys);
    const name = uniqueName("raw");
    await etcd.etcdctl("put", `${KEY_PREFIX}${name}`, JSON.stringify(rcc(name, { datastoreType: "etcdv3" })));
    const config = await waitFor(() => view.latest(name), { message: "the invalid config" });
    expect(config.status).toBe("invalid");
    expect(config.error).toMatch(/^spec\.etcdEndpoints: /);
  });

  it("serves /metrics, /healthz and /readyz", async () => {
    const url = running.service.status().httpUrl;
    expect(url).toBeDefined();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    const replicaId = running.service.status().leadership?.replicaId;
    expect(await ready.json()).toEqual({
      ready: true,
      reasons: [],
      leadership: { leading: true, replicaId, leader: replicaId },
    });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/fedview_config_publishes_total\{outcome="published"\} [1-9]/);
    expect(metrics).toMatch(/fedview_config_rpc_requests_total\{endpoint="apply",code="200"\} [1-9]/);
    expect(metrics).toContain('fedview_config_rccs{state="valid"}');
    expect(metrics).toMatch(/^fedview_config_ready 1$/m);
    expect(metrics).toMatch(/^fedview_config_leader 1$/m);
  });
});
