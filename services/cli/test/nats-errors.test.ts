/**
 * NATS mode when the bus or the query service is missing: a clear message on stderr and exit 1,
 * never a hang. And `watch` refusing a bad selector and printing json lines, on a hand-fed view.
 */
import { freePort, startNats, waitFor } from "@fedview/testkit";
import { describe, expect, it } from "vitest";
import { createViewBackend, runCli } from "../src/index.js";
import { Capture, fixtureView, runOn } from "./harness.js";

async function viaNats(url: string, argv: string[]) {
  const stdout = new Capture();
  const stderr = new Capture();
  const code = await runCli(argv, { invokedAs: "calicoq", stdout, stderr, env: { FEDVIEW_NATS_URL: url }, cwd: "/" });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe("NATS mode failures", () => {
  it("an unreachable server is reported and exits 1", async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const run = await viaNats(url, ["eval", "all()"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(new RegExp(`^cannot connect to NATS at ${url}: .+\\n$`));
  });

  it("a server without a query service says so and how to do without", async () => {
    await using nats = await startNats({ jetstream: false });
    const run = await viaNats(nats.url, ["policy", "x"]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      `no fedview query service answers on ${nats.url} (no service answers on fedview.v1.query.policy); start it, or run without --nats/FEDVIEW_NATS_URL to query the datastores directly\n`,
    );
  });

  it("--nats wins over nothing and is used as given", async () => {
    const url = `nats://127.0.0.1:${await freePort()}`;
    const stdout = new Capture();
    const stderr = new Capture();
    const code = await runCli(["--nats", url, "host", "node-1"], {
      invokedAs: "calicoq",
      stdout,
      stderr,
      env: {},
      cwd: "/",
    });
    expect(code).toBe(1);
    expect(stderr.text).toContain(`cannot connect to NATS at ${url}`);
  });
});

describe("watch on a view", () => {
  it("refuses an invalid selector the calicoq way", async () => {
    const run = await runOn(["watch", "has(a) ||"], undefined, "fedview");
    expect(run).toEqual({
      code: 1,
      stdout: 'Invalid selector: "has(a) ||". unexpected end of string looking for op.\n',
      stderr: "has(a) ||\n         ^\n",
    });
  });

  it("-o json prints one message per line: current matches, synced, then changes", async () => {
    const view = fixtureView();
    const controller = new AbortController();
    const stdout = new Capture();
    const stderr = new Capture();
    const done = runCli(["watch", "app == 'db'", "-o", "json"], {
      invokedAs: "fedview",
      stdout,
      stderr,
      env: {},
      cwd: "/",
      signal: controller.signal,
      openBackend: async () => createViewBackend(view),
    });
    await waitFor(() => stdout.text.includes('"synced"'));
    view.applyResourceEvent({
      v: 1,
      op: "delete",
      cluster: "_local",
      kind: "WorkloadEndpoint",
      id: "prod/node--2-k8s-db--0-eth0",
      revision: "999999",
      generation: 1,
    });
    await waitFor(() => stdout.text.includes('"stop"'));
    controller.abort();
    expect(await done).toBe(0);
    const lines = stdout.text
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { type: string; endpoint?: { display_name: string } });
    expect(lines.map((l) => [l.type, l.endpoint?.display_name])).toEqual([
      ["start", "node-2/k8s/prod.db-0/eth0"],
      ["synced", undefined],
      ["stop", "node-2/k8s/prod.db-0/eth0"],
    ]);
    expect(stderr.text).toBe("");
  });
});
