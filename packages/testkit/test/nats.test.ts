import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { describe, expect, it } from "vitest";
import { freePorts, startNats, uniqueName, waitFor } from "../src/index.js";

/** A temp dir removed at the end of the test: a kept `dir` is the caller's to delete. */
async function keptDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), "fedview-kept-nats-"));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

describe("startNats", () => {
  it("starts a real nats-server with JetStream that accepts publishes into a stream", async () => {
    await using nats = await startNats();
    expect(nats.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const subject = uniqueName("s");
      await jsm.streams.add({ name: subject.toUpperCase(), subjects: [`${subject}.>`] });
      const ack = await jetstream(nc).publish(`${subject}.a`, "hello");
      expect(ack.seq).toBe(1);
      expect(nc.info?.jetstream).toBe(true);
    } finally {
      await nc.close();
    }
  });

  it("keeps JetStream data across a restart on the same port", async () => {
    await using nats = await startNats();
    const stream = uniqueName("KEEP").toUpperCase();
    let nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    await jetstream(nc).publish(`${stream}.x`, "kept");
    await nc.close();

    await nats.restart();

    nc = await connect({ servers: nats.url });
    try {
      const msg = await (await jetstreamManager(nc)).streams.getMessage(stream, { seq: 1 });
      expect(msg?.string()).toBe("kept");
    } finally {
      await nc.close();
    }
  });

  it("serves TLS that a client trusting the generated CA connects to", async () => {
    await using nats = await startNats({ tls: true });
    expect(nats.url.startsWith("tls://")).toBe(true);
    const nc = await connect({ servers: nats.url, tls: { caFile: nats.tls!.caFile } });
    try {
      expect(nc.info?.tls_required).toBe(true);
      await nc.flush();
    } finally {
      await nc.close();
    }
  });

  it("refuses a client without a certificate when client verification is on", async () => {
    await using nats = await startNats({ tls: { verifyClients: true } });
    const tls = nats.tls!;
    await expect(
      connect({ servers: nats.url, tls: { caFile: tls.caFile }, reconnect: false, timeout: 3000 }),
    ).rejects.toThrow();
    const nc = await connect({
      servers: nats.url,
      tls: { caFile: tls.caFile, certFile: tls.client.certFile, keyFile: tls.client.keyFile },
    });
    await nc.flush();
    await nc.close();
  });

  it("enforces per-user publish permissions", async () => {
    await using nats = await startNats({
      jetstream: false,
      users: [
        { user: "reader", password: "r-pass", permissions: { publish: { allow: ["allowed.>"] } } },
        { user: "admin", password: "a-pass" },
      ],
    });
    await expect(connect({ servers: nats.url, user: "reader", pass: "wrong", reconnect: false })).rejects.toThrow(
      /Authorization/i,
    );
    const nc = await connect({ servers: nats.url, user: "reader", pass: "r-pass" });
    try {
      const denied = new Promise<string>((resolve) => {
        void (async () => {
          for await (const s of nc.status()) {
            if (s.type === "error") resolve(String(s.error));
          }
        })();
      });
      nc.publish("forbidden.x", "no");
      expect(await denied).toMatch(/Permissions Violation/i);
    } finally {
      await nc.close();
    }
  });

  it("starts a three-node cluster whose replicated stream survives losing its leader", async () => {
    await using nats = await startNats({ cluster: 3 });
    expect(nats.urls).toHaveLength(3);
    const nc = await connect({ servers: nats.urls });
    try {
      const jsm = await jetstreamManager(nc, { timeout: 2000 });
      const stream = uniqueName("R3").toUpperCase();
      await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], num_replicas: 3 });
      await jetstream(nc).publish(`${stream}.a`, "1");
      const leaderName = (await jsm.streams.info(stream)).cluster?.leader;
      const leader = nats.nodes.find((n) => n.name === leaderName);
      expect(leader).toBeDefined();
      await leader!.kill();
      // The two survivors elect a new stream leader; until then requests time out.
      const info = await waitFor(
        async () => {
          const i = await jsm.streams.info(stream);
          return i.cluster?.leader !== undefined && i.cluster.leader !== leaderName ? i : undefined;
        },
        { message: "a new stream leader" },
      );
      expect(info.state.messages).toBe(1);
      expect(info.config.num_replicas).toBe(3);
      const ack = await jetstream(nc, { timeout: 5000 }).publish(`${stream}.b`, "2");
      expect(ack.seq).toBe(2);
    } finally {
      await nc.close();
    }
  });

  it("keeps its files in dir and comes back on the same port and data in a new start", async () => {
    await using dir = await keptDir();
    const stream = uniqueName("KEPT").toUpperCase();
    let url: string;
    {
      await using nats = await startNats({ dir: dir.path });
      url = nats.url;
      expect(nats.dir).toBe(dir.path);
      const nc = await connect({ servers: nats.url });
      await (await jetstreamManager(nc)).streams.add({ name: stream, subjects: [`${stream}.>`] });
      await jetstream(nc).publish(`${stream}.x`, "kept across starts");
      await nc.close();
    }
    // Disposed: the process is gone but the files stay.
    expect(existsSync(join(dir.path, "n1", "jetstream"))).toBe(true);
    expect(existsSync(join(dir.path, "ports.json"))).toBe(true);

    await using again = await startNats({ dir: dir.path });
    expect(again.url).toBe(url);
    const nc = await connect({ servers: again.url });
    try {
      const msg = await (await jetstreamManager(nc)).streams.getMessage(stream, { seq: 1 });
      expect(msg?.string()).toBe("kept across starts");
    } finally {
      await nc.close();
    }
  });

  it("listens on the fixed client and monitoring ports it is given", async () => {
    const [port, monitorPort] = (await freePorts(2)) as [number, number];
    await using nats = await startNats({ port, monitorPort, jetstream: false });
    expect(nats.url).toBe(`nats://127.0.0.1:${port}`);
    expect(nats.nodes[0]!.monitorUrl).toBe(`http://127.0.0.1:${monitorPort}`);
    const nc = await connect({ servers: nats.url });
    await nc.flush();
    await nc.close();
  });

  it("names the fixed port when another process holds it, instead of picking another", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      await expect(startNats({ port, jetstream: false })).rejects.toThrow(
        new RegExp(`cannot listen on its fixed ports \\(client ${port}`),
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
