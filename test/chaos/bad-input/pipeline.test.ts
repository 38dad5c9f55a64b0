/**
 * Bad input through the running pipeline: remote objects too large for a bus message or with
 * absurd labels, a remote whose listing no longer fits one etcd response, and YAML bombs given to
 * `fedview apply`. Each gets a clear error, and nothing already stored is lost or corrupted: the
 * stored RCCs are unchanged and the view stays exactly what the remotes hold.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CONFIG_ENDPOINTS, configSubject, MAX_MESSAGE_BYTES, QUERY_ENDPOINTS, querySubject } from "@fedview/bus";
import { runCli } from "@fedview/cli";
import { TIMEOUTS, waitFor } from "@fedview/testkit";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonValue } from "../lib/arbitraries.js";
import { expectExactView } from "../lib/exact.js";
import { FIGURES, scenarioTimeout } from "../lib/figures.js";
import { put, type RemoteEtcd, workloadEndpoint } from "../lib/remote-etcd.js";
import { metricValue } from "../lib/services.js";
import { type ChaosStack, startChaosStack } from "../lib/stack.js";

const CLUSTER = "east";
/** A remote of its own for the large listing, so that its trouble stays its own. */
const BULK = "bulk";
let stack: ChaosStack;
let remote: RemoteEtcd;

const exact = (cluster: string, what: string) =>
  expectExactView(stack.client, () => stack.remotes.get(cluster)!.truth(), {
    clusters: [cluster],
    timeoutMs: TIMEOUTS.eventually,
    what,
  });

beforeAll(async () => {
  stack = await startChaosStack({
    remotes: { [CLUSTER]: { seed: 41, tls: false }, [BULK]: { seed: 42, tls: false } },
    initialResources: FIGURES.initialResources,
  });
  remote = stack.remotes.get(CLUSTER)!;
  await stack.expectExact(TIMEOUTS.eventually * 2, "the first sync");
}, TIMEOUTS.serverStart * 4);

afterAll(async () => {
  await stack?.[Symbol.asyncDispose]();
});

/** Runs the CLI as the `cli` NATS user; returns its exit code and everything it printed. */
async function fedview(...args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await runCli(args, {
    stdout: { write: (t: string) => out.push(t) },
    stderr: { write: (t: string) => out.push(t) },
    env: stack.bus.env("cli"),
    cwd: stack.dir,
  });
  return { code, out: out.join("") };
}

describe("oversized remote objects", () => {
  it(
    "skips an endpoint too large for a bus message and one with absurd labels, with a clear error; the rest stays exact",
    async () => {
      const connector = stack.service("etcd-connector");
      const malformed = () => metricValue(connector, "fedview_connector_malformed_total", { cluster: CLUSTER });
      const before = await malformed();
      const huge = workloadEndpoint(
        "prod",
        "huge-1",
        "node-a",
        { app: "x".repeat(63), big: "y".repeat(63) },
        "10.99.0.1",
      );
      huge.metadata.annotations = { ballast: "z".repeat(MAX_MESSAGE_BYTES + 1000) };
      const labelled = workloadEndpoint("prod", "labels-1", "node-a", { ["k".repeat(600)]: "v" }, "10.99.0.2");
      const many = workloadEndpoint(
        "prod",
        "labels-2",
        "node-a",
        Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`l${i}`, "v"])),
        "10.99.0.3",
      );
      for (const wep of [huge, labelled, many]) await put(remote.client, wep);
      await remote.churn.run(30);
      await exact(CLUSTER, "the view with oversized remote objects");
      await waitFor(async () => (await malformed()) > before, { message: "the connector to count what it skipped" });
      expect(connector.log()).toMatch(/huge--1|huge-1/);
      expect(connector.log()).toMatch(/over the \d+-byte limit|too large|exceeds/i);
    },
    scenarioTimeout(TIMEOUTS.eventually * 2),
  );

  it(
    "lists a remote whose endpoints together exceed one etcd response (large annotations)",
    async () => {
      // 8 MB of endpoints in all (40 kB each here, 8 kB in the full run), over gRPC's default limit of
      // 4 MB for one message: the listing must not depend on a range page fitting one.
      const bulk = stack.remotes.get(BULK)!;
      await bulk.churn.bloat(FIGURES.initialResources, Math.ceil((8 * 1024 * 1024) / FIGURES.initialResources));
      await exact(BULK, "the view with large values");
      const connector = stack.service("etcd-connector");
      await connector.kill();
      await bulk.churn.run(20);
      await connector.start();
      await exact(BULK, "the view after a relist of large values");
    },
    scenarioTimeout(TIMEOUTS.eventually * 3),
  );
});

describe("malformed RPC requests", () => {
  const subjects = [
    ...QUERY_ENDPOINTS.filter((e) => e !== "watch").map((e) => querySubject(e)),
    ...CONFIG_ENDPOINTS.map((e) => configSubject(e)),
  ];

  it(
    `answers ${FIGURES.fuzzInputs / 50} malformed requests per endpoint with a typed error or an answer, and keeps serving`,
    async () => {
      await using nc = await stack.bus.connect("cli");
      const body = fc.oneof(
        { weight: 3, arbitrary: jsonValue.map((v) => new TextEncoder().encode(JSON.stringify(v) ?? "null")) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
        {
          weight: 2,
          arbitrary: fc
            .record(
              { selector: fc.string(), name: fc.string(), substring: fc.string(), hostname: fc.string() },
              { requiredKeys: [] },
            )
            .map((r) => new TextEncoder().encode(JSON.stringify(r))),
        },
      );
      const samples = fc.sample(body, { numRuns: FIGURES.fuzzInputs / 50, seed: 4711 });
      const rccsBefore = await fedview("get", "remoteclusterconfigurations", "-o", "json");
      const codes = new Map<string, number>();
      for (const subject of subjects) {
        for (const data of samples) {
          const reply = await nc.request(subject, data, { timeout: 5000 });
          const code = reply.headers?.get("Nats-Service-Error-Code") ?? "200";
          codes.set(code, (codes.get(code) ?? 0) + 1);
          // Never an internal error: a bad request is the caller's, and says so.
          expect({ subject, code }).not.toEqual({ subject, code: "500" });
        }
      }
      expect(codes.get("400")).toBeGreaterThan(0);
      expect(await fedview("get", "remoteclusterconfigurations", "-o", "json")).toEqual(rccsBefore);
      await exact(CLUSTER, "the view after the malformed requests");
      console.info(`malformed RPC requests: ${JSON.stringify(Object.fromEntries(codes))} by reply code`);
    },
    scenarioTimeout(FIGURES.fuzzInputs / 5),
  );
});

describe("YAML bombs in fedview apply", () => {
  const laughs = [
    "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]",
    ...Array.from({ length: 12 }, (_, i) => {
      const prev = i === 0 ? "a" : `b${i - 1}`;
      return `b${i}: &b${i} [*${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}, *${prev}]`;
    }),
    "apiVersion: projectcalico.org/v3",
    "kind: RemoteClusterConfiguration",
    "metadata: { name: bomb }",
    "spec: { datastoreType: etcdv3, etcdEndpoints: 'https://10.0.0.1:2379', x: *b11 }",
  ].join("\n");
  const nested = `apiVersion: projectcalico.org/v3\nkind: RemoteClusterConfiguration\nmetadata: { name: deep }\nspec: ${"[".repeat(50_000)}${"]".repeat(50_000)}\n`;
  const large = `apiVersion: projectcalico.org/v3\nkind: RemoteClusterConfiguration\nmetadata: { name: large }\nspec: { datastoreType: etcdv3, etcdEndpoints: 'https://10.0.0.1:2379', note: '${"n".repeat(2 * 1024 * 1024)}' }\n`;
  const manyDocs = Array.from(
    { length: 20_000 },
    (_, i) => `---\nkind: RemoteClusterConfiguration\nmetadata: { name: m${i} }`,
  ).join("\n");

  it.each<[string, string, RegExp]>([
    ["a billion laughs (aliases)", laughs, /alias|too many|excessive/i],
    ["50k nested sequences", nested, /deep|nest|depth|invalid|spec/i],
    ["a 2 MB document", large, /too large|payload|maximum|size|exceed/i],
    ["20k documents", manyDocs, /document|too many|invalid|payload|exceed/i],
  ])("refuses %s with a clear error and stores nothing", async (_name, text, why) => {
    const before = await fedview("get", "remoteclusterconfigurations", "-o", "json");
    expect(before.code).toBe(0);
    const file = join(stack.dir, "bomb.yaml");
    await writeFile(file, text);
    const started = Date.now();
    const { code, out } = await fedview("apply", "-f", file);
    expect(code).not.toBe(0);
    expect(out).toMatch(why);
    expect(out.length).toBeLessThan(10_000);
    // Nothing stored changed, and the config service still answers, as promptly as before.
    const after = await fedview("get", "remoteclusterconfigurations", "-o", "json");
    expect(after).toEqual(before);
    console.info(`yaml bomb ${_name}: refused in ${Date.now() - started} ms: ${out.trim().split("\n")[0]}`);
  });

  it("kept the view exact through all of it", async () => {
    await exact(CLUSTER, "the view after the bombs");
    expect(await stack.bus.violations()).toEqual([]);
  });
});
