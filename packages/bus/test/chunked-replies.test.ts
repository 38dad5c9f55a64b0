import { type NatsServer, startNats, uniqueName } from "@fedview/testkit";
import { headers, type NatsConnection } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import {
  connectBus,
  InternalError,
  InvalidRequestError,
  requestService,
  serveService,
  UnavailableError,
  unaryEndpoint,
} from "../src/index.js";
import { ManualTimers } from "./fixtures.js";

async function rpcBus(): Promise<
  { nats: NatsServer; server: NatsConnection; client: NatsConnection } & AsyncDisposable
> {
  const nats = await startNats({ jetstream: false });
  const server = await connectBus({ servers: nats.url, name: "service" });
  const client = await connectBus({ servers: nats.url, name: "client" });
  return {
    nats,
    server,
    client,
    async [Symbol.asyncDispose]() {
      await client.close();
      await server.close();
      await nats[Symbol.asyncDispose]();
    },
  };
}

const subject = (name: string) => `${uniqueName("t")}.${name}`;

/** An answer shaped like a query result: `n` endpoints of about 100 bytes each. */
function bigAnswer(n: number): { endpoints: { name: string; node: string }[] } {
  return {
    endpoints: Array.from({ length: n }, (_, i) => ({
      name: `c1/node-${i % 97}/k8s/ns-${i % 13}.pod-${i}/eth0`,
      node: `c1/node-${i % 97}`,
    })),
  };
}

const bytesOf = (value: unknown) => new TextEncoder().encode(JSON.stringify(value)).length;

describe("chunked replies of serveService / requestService", () => {
  it("returns an answer larger than the server's max_payload whole, through the default 1 MB limit", async () => {
    await using bus = await rpcBus();
    const s = subject("eval");
    const answer = bigAnswer(60_000);
    expect(bytesOf(answer)).toBeGreaterThan(3 * (bus.client.info?.max_payload ?? 0));
    await using _svc = await serveService(bus.server, {
      name: "fedview-query",
      version: "0.0.1",
      endpoints: { eval: unaryEndpoint({ subject: s, handler: () => answer }) },
    });
    expect(await requestService(bus.client, s, { selector: "all()" })).toEqual(answer);
  });

  it("keeps a small answer one plain message without chunk headers, as a bare NATS request sees it", async () => {
    await using bus = await rpcBus();
    const s = subject("eval");
    await using _svc = await serveService(bus.server, {
      name: "fedview-query",
      version: "0.0.1",
      maxReplyBytes: 10_000,
      endpoints: { eval: unaryEndpoint({ subject: s, handler: () => bigAnswer(10) }) },
    });
    const raw = await bus.client.request(s, "{}", { timeout: 5000 });
    expect(raw.headers?.has("Fedview-Reply-Chunks") ?? false).toBe(false);
    expect(JSON.parse(new TextDecoder().decode(raw.data))).toEqual(bigAnswer(10));
  });

  it("sends chunk 0 with count, size and fetch subject, serves each chunk, and forgets them once all are fetched", async () => {
    await using bus = await rpcBus();
    const s = subject("eval");
    const answer = bigAnswer(500);
    const total = bytesOf(answer);
    await using _svc = await serveService(bus.server, {
      name: "fedview-query",
      version: "0.0.1",
      maxReplyBytes: 4096,
      endpoints: { eval: unaryEndpoint({ subject: s, handler: () => answer }) },
    });
    const first = await bus.client.request(s, "{}", { timeout: 5000 });
    const count = Number(first.headers?.get("Fedview-Reply-Chunks"));
    const fetch = first.headers?.get("Fedview-Reply-Fetch") ?? "";
    expect(count).toBe(Math.ceil(total / 4096));
    expect(Number(first.headers?.get("Fedview-Reply-Bytes"))).toBe(total);
    expect(first.data.length).toBe(4096);

    const parts = [first.data];
    for (let i = 1; i < count; i++) {
      const h = headers();
      h.set("Fedview-Reply-Chunk", String(i));
      parts.push((await bus.client.request(fetch, "", { timeout: 5000, headers: h })).data);
    }
    expect(JSON.parse(Buffer.concat(parts).toString("utf8"))).toEqual(answer);
    // Everything was fetched: the service no longer listens on the fetch subject.
    const h = headers();
    h.set("Fedview-Reply-Chunk", "1");
    await expect(bus.client.request(fetch, "", { timeout: 5000, headers: h })).rejects.toThrow();
  });

  it("answers a fetch of a chunk that does not exist with 400", async () => {
    await using bus = await rpcBus();
    const s = subject("eval");
    await using _svc = await serveService(bus.server, {
      name: "fedview-query",
      version: "0.0.1",
      maxReplyBytes: 4096,
      endpoints: { eval: unaryEndpoint({ subject: s, handler: () => bigAnswer(200) }) },
    });
    const first = await bus.client.request(s, "{}", { timeout: 5000 });
    const h = headers();
    h.set("Fedview-Reply-Chunk", "9999");
    const raw = await bus.client.request(first.headers?.get("Fedview-Reply-Fetch") ?? "", "", {
      timeout: 5000,
      headers: h,
    });
    expect(raw.headers?.get("Nats-Service-Error-Code")).toBe("400");
  });

  it("drops chunks nobody fetched within chunkTtlMs; a late fetch fails with UnavailableError", async () => {
    await using bus = await rpcBus();
    const s = subject("eval");
    const timers = new ManualTimers();
    await using _svc = await serveService(bus.server, {
      name: "fedview-query",
      version: "0.0.1",
      maxReplyBytes: 4096,
      timers,
      endpoints: { eval: unaryEndpoint({ subject: s, handler: () => bigAnswer(200) }) },
    });
    const first = await bus.client.request(s, "{}", { timeout: 5000 });
    expect(timers.armed).toBe(1);
    timers.fireAll();
    await bus.server.flush();
    const h = headers();
    h.set("Fedview-Reply-Chunk", "1");
    await expect(
      bus.client.request(first.headers?.get("Fedview-Reply-Fetch") ?? "", "", { timeout: 5000, headers: h }),
    ).rejects.toThrow();

    // requestService reports the same situation as the typed error a caller can retry on.
    const original = bus.client.request.bind(bus.client);
    let fired = false;
    const client = new Proxy(bus.client, {
      get(target, prop, receiver) {
        if (prop !== "request") return Reflect.get(target, prop, receiver);
        return async (...args: Parameters<NatsConnection["request"]>) => {
          const reply = await original(...args);
          if (!fired && reply.headers?.has("Fedview-Reply-Chunks")) {
            fired = true;
            timers.fireAll();
            await bus.server.flush();
          }
          return reply;
        };
      },
    });
    await expect(requestService(client, s, {}, { timeoutMs: 2000 })).rejects.toBeInstanceOf(UnavailableError);
  });

  it("refuses a reassembled reply larger than the caller's maxReplyBytes", async () => {
    await using bus = await rpcBus();
    const s = subject("eval");
    await using _svc = await serveService(bus.server, {
      name: "fedview-query",
      version: "0.0.1",
      maxReplyBytes: 4096,
      endpoints: { eval: unaryEndpoint({ subject: s, handler: () => bigAnswer(200) }) },
    });
    await expect(requestService(bus.client, s, {}, { maxReplyBytes: 8192 })).rejects.toThrow(/exceed the 8192-byte/);
  });

  it("still replies errors as one message, whatever their size limit", async () => {
    await using bus = await rpcBus();
    const s = subject("fail");
    await using _svc = await serveService(bus.server, {
      name: "fedview-query",
      version: "0.0.1",
      maxReplyBytes: 16,
      endpoints: {
        fail: unaryEndpoint({
          subject: s,
          handler: (): never => {
            throw new InvalidRequestError("bad selector", [{ path: "selector", message: "expected ==" }]);
          },
        }),
        boom: { subject: `${s}.boom`, handler: () => Promise.reject(new Error("boom")) },
      },
    });
    await expect(requestService(bus.client, s, {})).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(requestService(bus.client, `${s}.boom`, {})).rejects.toBeInstanceOf(InternalError);
  });
});
