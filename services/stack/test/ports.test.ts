import { createServer, type Server } from "node:net";
import { describe, expect, it } from "vitest";
import { choosePorts } from "../src/ports.js";

function listen(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

describe("choosePorts", () => {
  it("keeps what was asked for and what was remembered, and gives every other port a distinct free one", async () => {
    const ports = await choosePorts({ nats: 41_001, etcd: 41_002 }, { nats: 41_003, queryMetrics: 41_004 });
    expect(ports.nats).toBe(41_003);
    expect(ports.etcd).toBe(41_002);
    expect(ports.queryMetrics).toBe(41_004);
    const all = Object.values(ports);
    expect(all).toHaveLength(12);
    expect(new Set(all).size).toBe(12);
  });

  it("takes a preferred port when free, and another one when something holds it", async () => {
    const held = (await listen(0))!;
    const released = (await listen(0))!;
    const heldPort = (held.address() as { port: number }).port;
    const freePort = (released.address() as { port: number }).port;
    await new Promise((resolve) => released.close(resolve));
    try {
      const ports = await choosePorts({}, {}, { nats: heldPort, natsMonitor: freePort });
      expect(ports.nats).not.toBe(heldPort);
      expect(ports.natsMonitor).toBe(freePort);
    } finally {
      await new Promise((resolve) => held.close(resolve));
    }
  });
});
