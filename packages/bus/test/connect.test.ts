import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startNats, uniqueName, waitFor } from "@fedview/testkit";
import { createUser } from "@nats-io/nkeys";
import { describe, expect, it } from "vitest";
import { BusConfigError, BusConnectionError, connectBus, toNatsConnectionOptions } from "../src/index.js";

const utf8 = new TextDecoder();

async function connectionNames(monitorUrl: string): Promise<string[]> {
  const response = await fetch(`${monitorUrl}/connz`);
  const body = (await response.json()) as { connections?: { name?: string }[] };
  return (body.connections ?? []).map((c) => c.name ?? "");
}

describe("connectBus", () => {
  it("authenticates with user and password and refuses a wrong password", async () => {
    await using nats = await startNats({ jetstream: false, users: [{ user: "svc", password: "right-pass" }] });
    await using nc = await connectBus({ servers: nats.url, user: "svc", password: "right-pass" });
    await nc.flush();
    const refused = connectBus({
      servers: nats.url,
      user: "svc",
      password: "wrong-pass",
      reconnect: { enabled: false },
    });
    await expect(refused).rejects.toThrow(BusConnectionError);
    await expect(refused).rejects.toThrow(/Authorization/i);
  });

  it("authenticates with a token", async () => {
    await using nats = await startNats({ jetstream: false, extraConfig: 'authorization { token: "tok-7f3a" }' });
    await using nc = await connectBus({ servers: nats.url, token: "tok-7f3a" });
    await nc.flush();
    await expect(connectBus({ servers: nats.url, token: "other", reconnect: { enabled: false } })).rejects.toThrow(
      BusConnectionError,
    );
  });

  it("authenticates with an nkey seed, given inline or as a file", async () => {
    const user = createUser();
    const seed = utf8.decode(user.getSeed());
    await using nats = await startNats({
      jetstream: false,
      extraConfig: `authorization { users: [ { nkey: "${user.getPublicKey()}" } ] }`,
    });
    const dir = await mkdtemp(join(tmpdir(), "fedview-bus-nkey-"));
    try {
      const seedFile = join(dir, "user.nk");
      await writeFile(seedFile, `${seed}\n`);
      await using inline = await connectBus({ servers: nats.url, nkeySeed: seed });
      await using fromFile = await connectBus({ servers: nats.url, nkeySeedFile: seedFile });
      await inline.flush();
      await fromFile.flush();
      const stranger = utf8.decode(createUser().getSeed());
      await expect(
        connectBus({ servers: nats.url, nkeySeed: stranger, reconnect: { enabled: false } }),
      ).rejects.toThrow(BusConnectionError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("connects over TLS with a CA and a client certificate, from files or contents", async () => {
    await using nats = await startNats({ jetstream: false, tls: { verifyClients: true } });
    const tls = nats.tls!;
    await using fromFiles = await connectBus({
      servers: nats.url,
      tls: { caFile: tls.caFile, certFile: tls.client.certFile, keyFile: tls.client.keyFile },
    });
    await using fromContents = await connectBus({
      servers: nats.url,
      tls: { ca: tls.ca, cert: tls.client.cert, key: tls.client.key },
    });
    await fromFiles.flush();
    await fromContents.flush();
    expect(fromFiles.info?.tls_required).toBe(true);
    await expect(
      connectBus({ servers: nats.url, tls: { caFile: tls.caFile }, reconnect: { enabled: false } }),
    ).rejects.toThrow(BusConnectionError);
  });

  it("sets the client name the server shows and reconnects after a server restart", async () => {
    await using nats = await startNats({ jetstream: false });
    const name = uniqueName("svc");
    await using nc = await connectBus({ servers: [nats.url], name, reconnect: { waitMs: 50, jitterMs: 0 } });
    await nc.flush();
    expect(await connectionNames(nats.nodes[0]!.monitorUrl)).toContain(name);

    await nats.restart();
    await waitFor(
      async () => {
        await nc.flush();
        return (await connectionNames(nats.nodes[0]!.monitorUrl)).includes(name);
      },
      { message: "the client to reconnect after the restart" },
    );
    expect(nc.isClosed()).toBe(false);
  });

  it("drains and closes the connection when disposed", async () => {
    await using nats = await startNats({ jetstream: false });
    const nc = await connectBus({ servers: nats.url });
    await nc[Symbol.asyncDispose]();
    expect(nc.isClosed()).toBe(true);
  });

  it("wraps an unreachable server in BusConnectionError", async () => {
    await using nats = await startNats({ jetstream: false });
    const url = nats.url;
    await nats.stop();
    await expect(
      connectBus({ servers: url, reconnect: { enabled: false }, connectTimeoutMs: 2000 }),
    ).rejects.toBeInstanceOf(BusConnectionError);
  });
});

describe("toNatsConnectionOptions", () => {
  it("maps the reconnect policy and defaults to reconnecting forever", () => {
    expect(toNatsConnectionOptions({ servers: "nats://h:4222" })).toMatchObject({
      reconnect: true,
      maxReconnectAttempts: -1,
      waitOnFirstConnect: false,
    });
    expect(
      toNatsConnectionOptions({
        servers: ["nats://a:4222", "nats://b:4222"],
        reconnect: {
          enabled: true,
          maxAttempts: 5,
          waitMs: 250,
          jitterMs: 10,
          jitterTlsMs: 20,
          waitOnFirstConnect: true,
        },
        connectTimeoutMs: 1000,
        pingIntervalMs: 5000,
        maxPingOut: 3,
        inboxPrefix: "_INBOX_svc",
      }),
    ).toMatchObject({
      servers: ["nats://a:4222", "nats://b:4222"],
      maxReconnectAttempts: 5,
      reconnectTimeWait: 250,
      reconnectJitter: 10,
      reconnectJitterTLS: 20,
      waitOnFirstConnect: true,
      timeout: 1000,
      pingInterval: 5000,
      maxPingOut: 3,
      inboxPrefix: "_INBOX_svc",
    });
  });

  it.each([
    [{ servers: "nats://h", user: "u", password: "p", token: "t" }, "choose one authentication method"],
    [{ servers: "nats://h", password: "p" }, "user: is required with a password"],
    [{ servers: "nats://h", nkeySeed: "SU", nkeySeedFile: "/x" }, "either nkeySeed or nkeySeedFile"],
    [{ servers: "nats://h", tls: { cert: "c" } }, "needs its key"],
    [{ servers: [] }, "servers"],
  ])("refuses inconsistent options %j", (options, message) => {
    expect(() => toNatsConnectionOptions(options)).toThrow(BusConfigError);
    expect(() => toNatsConnectionOptions(options)).toThrow(message);
  });
});
