/**
 * Remote datastore authentication and the secrets it needs. Remotes on etcd with mTLS and RBAC users
 * and on Kubernetes with a token or a client certificate sync; wrong passwords, missing rights, a wrong
 * CA and a token without RBAC are refused with clear statuses. Through all of it, no secret — etcd
 * passwords, client keys, tokens — appears on the bus, in JetStream's store, in any service's log, in
 * a status or error, or in `fedview get -o yaml`.
 */
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type BusConnection, querySubject, requestService } from "@fedview/bus";
import { runCli } from "@fedview/cli";
import type { QueryAnswer, StatusResult } from "@fedview/query-service";
import { createCertificateAuthority, TIMEOUTS, waitFor } from "@fedview/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { expectExactView } from "../lib/exact.js";
import { READER } from "../lib/remote-etcd.js";
import { type SecretPattern, scanTree, secretPattern, secretsIn } from "../lib/secrets.js";
import { ADMIN } from "../lib/secure-bus.js";
import { type ChaosStack, startChaosStack } from "../lib/stack.js";

const WRONG_PASSWORD = "not-the-password-91c4e";
const OUTSIDER = { name: "outsider", password: "outsider-pw-77e2a9", read: ["/elsewhere/"] };

let stack: ChaosStack;
let admin: BusConnection;
let secrets: SecretPattern[];
const sniffed: { subject: string; data: Uint8Array; headers: string }[] = [];

beforeAll(async () => {
  const wrongCa = await createCertificateAuthority("not-the-remote-ca");
  stack = await startChaosStack({
    services: ["query-service", "config-service", "etcd-connector", "k8s-connector"],
    remotes: {
      east: { tls: true, readerUser: true, seed: 1 },
      "wrong-pw": { tls: true, users: [READER], login: { username: READER.name, password: WRONG_PASSWORD } },
      "no-rights": { tls: true, users: [OUTSIDER], login: { username: OUTSIDER.name, password: OUTSIDER.password } },
      "wrong-ca": { tls: true, readerUser: true, caFile: wrongCa.caFile },
    },
    kubeRemotes: {
      north: { seed: 2, auth: "token" },
      south: { seed: 3, auth: "certificate" },
      "no-rbac": { seed: 4, auth: "token", rbac: false },
    },
    initialResources: 20,
    deferRccs: true,
  });
  // Listen to everything on the bus before any RCC exists: configs, replies, JetStream deliveries.
  admin = await stack.bus.connect(ADMIN);
  admin.subscribe(">", {
    callback: (err, msg) => {
      if (err === null) sniffed.push({ subject: msg.subject, data: msg.data, headers: msg.headers?.toString() ?? "" });
    },
  });
  await admin.flush();

  secrets = [
    secretPattern("etcd reader password", READER.password),
    secretPattern("wrong etcd password", WRONG_PASSWORD),
    secretPattern("outsider password", OUTSIDER.password),
  ];
  for (const [name, remote] of stack.remotes) {
    secrets.push(secretPattern(`${name} etcd client key`, remote.etcd.tls!.client.key));
  }
  for (const [name] of stack.kubeRemotes) {
    const kubeconfig = parse(await readFile(join(stack.dir, `kubeconfig-${name}`), "utf8")) as {
      users: { user: { token?: string; "client-key-data"?: string } }[];
    };
    const user = kubeconfig.users[0]!.user;
    if (user.token) secrets.push(secretPattern(`${name} token`, user.token));
    const key = user["client-key-data"];
    if (key) secrets.push(secretPattern(`${name} client key`, Buffer.from(key, "base64").toString()));
  }
  await stack.applyRccs();
}, TIMEOUTS.serverStart * 6);

afterAll(async () => {
  await admin?.close();
  await stack?.[Symbol.asyncDispose]();
});

async function statusRow(cluster: string) {
  const answer = await requestService<QueryAnswer<StatusResult>>(stack.client, querySubject("status"), {});
  return answer.result.clusters.find((c) => c.cluster === cluster);
}

async function expectFailed(cluster: string, why: RegExp): Promise<string> {
  const row = await waitFor(
    async () => {
      const r = await statusRow(cluster);
      return r?.status === "ConnectionFailed" ? r : undefined;
    },
    { message: `${cluster} to report ConnectionFailed` },
  );
  expect(row.error).toMatch(why);
  expect(secretsIn(row.error ?? "", secrets)).toEqual([]);
  return row.error!;
}

describe("remote datastore authentication", () => {
  it.each(["east"])("syncs %s: etcd over mTLS as a read-only RBAC user", async (name) => {
    const remote = stack.remotes.get(name)!;
    await expectExactView(stack.client, () => remote.truth(), { clusters: [name], timeoutMs: TIMEOUTS.eventually });
    await waitFor(async () => (await statusRow(name))?.status === "InSync", { message: `${name} to be InSync` });
  });

  it.each(["north", "south"])(
    "syncs %s: Kubernetes with a ServiceAccount token / a client certificate",
    async (name) => {
      const remote = stack.kubeRemotes.get(name)!;
      await expectExactView(stack.client, () => remote.truth(), { clusters: [name], timeoutMs: TIMEOUTS.eventually });
      await waitFor(async () => (await statusRow(name))?.status === "InSync", { message: `${name} to be InSync` });
    },
  );

  it.each<[string, RegExp]>([
    ["wrong-pw", /auth|password|credential/i],
    ["no-rights", /permission|denied|not allowed|authoriz/i],
    ["wrong-ca", /certificate|self.signed|unknown authority|verify/i],
    ["no-rbac", /forbidden|403|RBAC|cannot list|permission/i],
  ])("refuses %s with a clear ConnectionFailed status", async (cluster, why) => {
    const error = await expectFailed(cluster, why);
    console.info(`${cluster}: ConnectionFailed: ${error}`);
    expect(await expectExactView(stack.client, () => [], { clusters: [cluster], timeoutMs: 1000, atLeast: 0 })).toBe(0);
  });
});

describe("no secret leaks", () => {
  it("none travels on the bus, yet the bus carried the configs and the data", async () => {
    await expectExactView(
      stack.client,
      async () => [...(await stack.remotes.get("east")!.truth()), ...stack.kubeRemotes.get("north")!.truth()],
      { clusters: ["east", "north"], timeoutMs: TIMEOUTS.eventually },
    );
    await admin.flush();
    const leaks = sniffed.flatMap((m) =>
      secretsIn(Buffer.concat([Buffer.from(m.subject), Buffer.from(m.headers), m.data]), secrets).map(
        (s) => `${m.subject}: ${s}`,
      ),
    );
    expect(leaks).toEqual([]);
    // What was sniffed is the real traffic: sealed connection configs and resource events.
    expect(sniffed.some((m) => m.subject.startsWith("$KV.fedview-connections.etcdv3.east"))).toBe(true);
    expect(sniffed.some((m) => m.subject.startsWith("fedview.v1.res.east."))).toBe(true);
  });

  it("none is in JetStream's store on disk, where the sealed configs and the resources are", async () => {
    const scans = await Promise.all(stack.bus.nats.nodes.map((n) => scanTree(n.storeDir, secrets)));
    expect(scans.flatMap((s) => s.found)).toEqual([]);
    // The scan reads the real blocks: the remotes' profile labels are in them in the clear.
    const marker = [secretPattern("a remote profile label", '"pcns.team"')];
    const seen = await Promise.all(stack.bus.nats.nodes.map((n) => scanTree(n.storeDir, marker)));
    expect(seen.flatMap((s) => s.found).length).toBeGreaterThan(0);
  });

  it("none is in any service's log, though the refused remotes were logged", () => {
    for (const service of stack.services.values()) {
      const log = service.log();
      expect(log.length).toBeGreaterThan(0);
      expect({ service: service.name, leaks: secretsIn(log, secrets) }).toEqual({ service: service.name, leaks: [] });
    }
    expect(stack.service("etcd-connector").log()).toMatch(/wrong-pw/);
  });

  it("none is in `fedview get -o yaml`, which shows the password as [REDACTED]", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(["get", "remoteclusterconfigurations", "-o", "yaml"], {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => err.push(t) },
      env: stack.bus.env("cli"),
      cwd: stack.dir,
    });
    expect({ code, err: err.join("") }).toEqual({ code: 0, err: "" });
    const text = out.join("");
    expect(text).toMatch(/name: east/);
    expect(text).toMatch(/etcdPassword: "?\[REDACTED\]"?/);
    expect(secretsIn(text, secrets)).toEqual([]);
  });

  it("none travels on the bus when `fedview apply` sends an RCC with a password", async () => {
    const password = "applied-pw-3e8d41c7";
    const file = join(stack.dir, "applied-rcc.yaml");
    await writeFile(
      file,
      [
        "apiVersion: projectcalico.org/v3",
        "kind: RemoteClusterConfiguration",
        "metadata: { name: applied }",
        "spec:",
        "  datastoreType: etcdv3",
        `  etcdEndpoints: ${stack.remotes.get("east")!.etcd.url}`,
        "  etcdUsername: reader",
        `  etcdPassword: ${password}`,
        "",
      ].join("\n"),
    );
    const from = sniffed.length;
    const out: string[] = [];
    const code = await runCli(["apply", "-f", file], {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => out.push(t) },
      env: stack.bus.env("cli"),
      cwd: stack.dir,
    });
    expect({ code, out: out.join("") }).toEqual({ code: 0, out: "remoteclusterconfiguration/applied created\n" });
    await admin.flush();
    const applied = [secretPattern("applied password", password)];
    const leaks = sniffed.slice(from).flatMap((m) => secretsIn(m.data, applied).map((s) => `${m.subject}: ${s}`));
    expect(leaks).toEqual([]);
  });

  it("none is in the error of an apply that fails, even for a password YAML reads as a number", async () => {
    const file = join(stack.dir, "bad-rcc.yaml");
    await writeFile(
      file,
      [
        "apiVersion: projectcalico.org/v3",
        "kind: RemoteClusterConfiguration",
        "metadata: { name: leaky }",
        "spec:",
        "  datastoreType: etcdv3",
        "  etcdEndpoints: https://reader:918273645@10.0.0.1:2379",
        "  etcdUsername: reader",
        "  etcdPassword: 918273645",
        "",
      ].join("\n"),
    );
    const out: string[] = [];
    const code = await runCli(["apply", "-f", file], {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => out.push(t) },
      env: stack.bus.env("cli"),
      cwd: stack.dir,
    });
    const text = out.join("");
    console.info(`fedview apply of a leaky RCC: exit ${code}: ${text.trim()}`);
    expect(code).not.toBe(0);
    expect(text).toMatch(/etcdPassword/);
    expect(text).not.toContain("918273645");
  });
});
