import { type NatsServer, startNats, uniqueName, waitFor } from "@fedview/testkit";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  BusError,
  BusMetrics,
  ConflictError,
  connectBus,
  DecodeError,
  InternalError,
  InvalidRequestError,
  NotFoundError,
  openServiceStream,
  QUERY_SERVICE_NAME,
  RequestTimeoutError,
  requestService,
  serveService,
  streamEndpoint,
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

/** A subject unique to the test, so services of different tests never answer each other. */
const subject = (name: string) => `${uniqueName("t")}.${name}`;

describe("serveService and requestService", () => {
  it("answers a JSON request with the handler's JSON result and registers as a micro service", async () => {
    await using bus = await rpcBus();
    const evalSubject = subject("eval");
    await using svc = await serveService(bus.server, {
      name: QUERY_SERVICE_NAME,
      version: "1.2.3",
      description: "queries",
      endpoints: {
        eval: unaryEndpoint({
          subject: evalSubject,
          schema: z.object({ selector: z.string() }),
          handler: (req) => ({ selector: req.selector, matches: ["c1/host/k8s/ns.pod/eth0"] }),
        }),
        nothing: { subject: subject("nothing"), handler: () => undefined },
      },
    });
    expect(await requestService(bus.client, evalSubject, { selector: "app == 'web'" })).toEqual({
      selector: "app == 'web'",
      matches: ["c1/host/k8s/ns.pod/eth0"],
    });
    expect(await requestService(bus.client, svc.info().endpoints[1]!.subject, undefined)).toBeNull();

    const infos = [];
    for await (const info of await new Svcm(bus.client).client().info(QUERY_SERVICE_NAME)) infos.push(info);
    expect(infos).toHaveLength(1);
    expect(infos[0]).toMatchObject({ name: QUERY_SERVICE_NAME, version: "1.2.3", id: svc.id });
    expect(infos[0]!.endpoints.map((e) => e.subject).sort()).toEqual(
      [evalSubject, svc.info().endpoints[1]!.subject].sort(),
    );
  });

  it.each([
    ["NotFoundError", () => new NotFoundError("no RCC c9", { details: { name: "c9" } }), NotFoundError, 404],
    ["ConflictError", () => new ConflictError("stale revision", { details: { current: 7 } }), ConflictError, 409],
    ["UnavailableError", () => new UnavailableError("datastore down"), UnavailableError, 503],
    ["an unexpected Error", () => new Error("boom\nsecond line"), InternalError, 500],
    ["a BusError with another code", () => new BusError("teapot", 418), BusError, 418],
  ])("maps %s to micro error headers and back to the same class", async (_, make, type, code) => {
    await using bus = await rpcBus();
    const s = subject("fail");
    const logged: unknown[] = [];
    await using _svc = await serveService(bus.server, {
      name: "fedview-config",
      version: "0.0.1",
      endpoints: { fail: { subject: s, handler: () => Promise.reject(make()) } },
      onError: (err) => logged.push(err),
    });

    // What travels: the micro error headers, on one line, and a JSON body with the details.
    const raw = await bus.client.request(s, "{}", { timeout: 5000 });
    expect(raw.headers?.get("Nats-Service-Error-Code")).toBe(String(code));
    expect(raw.headers?.get("Nats-Service-Error")).toBe(make().message.replace("\n", " "));

    let caught: unknown;
    try {
      await requestService(bus.client, s, {});
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(type);
    expect((caught as BusError).code).toBe(code);
    expect((caught as BusError).message).toBe(make().message);
    expect((caught as BusError).details).toEqual(make() instanceof BusError ? (make() as BusError).details : undefined);
    // Only failures that are not typed bus errors are handed to the log hook.
    expect(logged).toHaveLength(make() instanceof BusError ? 0 : 2);
  });

  it("validates the request with the endpoint's schema and returns the issues as InvalidRequestError", async () => {
    await using bus = await rpcBus();
    const s = subject("apply");
    await using _svc = await serveService(bus.server, {
      name: "fedview-config",
      version: "0.0.1",
      endpoints: {
        apply: unaryEndpoint({
          subject: s,
          schema: z.object({
            name: z.string().regex(/^[a-z0-9-]+$/),
            spec: z.object({ datastoreType: z.enum(["etcdv3"]) }),
          }),
          handler: () => ({ ok: true }),
        }),
      },
    });
    const failure = requestService(bus.client, s, { name: "Bad_Name", spec: { datastoreType: "mysql" } });
    await expect(failure).rejects.toBeInstanceOf(InvalidRequestError);
    const err = (await failure.catch((e: unknown) => e)) as InvalidRequestError;
    expect(err.issues.map((i) => i.path).sort()).toEqual(["name", "spec.datastoreType"]);

    const raw = await bus.client.request(s, "not json", { timeout: 5000 });
    expect(raw.headers?.get("Nats-Service-Error-Code")).toBe("400");
  });

  it("maps no responders to UnavailableError and no reply to RequestTimeoutError", async () => {
    await using bus = await rpcBus();
    await expect(requestService(bus.client, subject("nobody"), {})).rejects.toBeInstanceOf(UnavailableError);
    const s = subject("slow");
    await using _svc = await serveService(bus.server, {
      name: "slow",
      version: "0.0.1",
      endpoints: { slow: { subject: s, handler: () => new Promise(() => {}) } },
    });
    await expect(requestService(bus.client, s, {}, { timeoutMs: 300 })).rejects.toBeInstanceOf(RequestTimeoutError);
  });

  it("checks the reply against a schema and counts a mismatch as a decode failure", async () => {
    await using bus = await rpcBus();
    const s = subject("status");
    const metrics = new BusMetrics();
    await using _svc = await serveService(bus.server, {
      name: "q",
      version: "0.0.1",
      endpoints: { status: { subject: s, handler: () => ({ clusters: "not an array" }) } },
    });
    await expect(
      requestService(bus.client, s, {}, { schema: z.object({ clusters: z.array(z.string()) }), metrics }),
    ).rejects.toBeInstanceOf(DecodeError);
    expect(metrics.decodeFailures().response).toBe(1);
  });

  it("stops answering when disposed", async () => {
    await using bus = await rpcBus();
    const s = subject("eval");
    const svc = await serveService(bus.server, {
      name: "q",
      version: "0.0.1",
      endpoints: { eval: { subject: s, handler: () => 1 } },
    });
    expect(await requestService(bus.client, s, {})).toBe(1);
    await svc[Symbol.asyncDispose]();
    await expect(requestService(bus.client, s, {})).rejects.toBeInstanceOf(UnavailableError);
  });
});

describe("streaming endpoints", () => {
  it("streams events to the caller, and a cancel from the caller ends the handler", async () => {
    await using bus = await rpcBus();
    const s = subject("watch");
    let handlerEnded = false;
    await using _svc = await serveService(bus.server, {
      name: QUERY_SERVICE_NAME,
      version: "0.0.1",
      endpoints: {
        watch: streamEndpoint({
          subject: s,
          schema: z.object({ selector: z.string() }),
          stream: async (req, sink) => {
            for (let i = 1; i <= 3; i++) sink.send({ n: i, selector: req.selector });
            await sink.closed;
            handlerEnded = true;
          },
        }),
      },
    });
    const stream = await openServiceStream<{ n: number }>(bus.client, s, { selector: "all()" });
    const got: number[] = [];
    for await (const event of stream) {
      got.push(event.n);
      if (got.length === 3) break;
    }
    expect(got).toEqual([1, 2, 3]);
    await waitFor(() => handlerEnded, { message: "the handler to see the cancel" });
  });

  it("ends the caller's iteration cleanly when the handler finishes, or with its typed error", async () => {
    await using bus = await rpcBus();
    const s = subject("watch");
    await using _svc = await serveService(bus.server, {
      name: "q",
      version: "0.0.1",
      endpoints: {
        watch: streamEndpoint<{ fail: boolean }, string>({
          subject: s,
          stream: async (req, sink) => {
            sink.send("first");
            if (req.fail) throw new NotFoundError("cluster c9 vanished");
          },
        }),
      },
    });
    const ok: string[] = [];
    for await (const e of await openServiceStream<string>(bus.client, s, { fail: false })) ok.push(e);
    expect(ok).toEqual(["first"]);

    const failed: string[] = [];
    const failing = (async () => {
      for await (const e of await openServiceStream<string>(bus.client, s, { fail: true })) failed.push(e);
    })();
    await expect(failing).rejects.toBeInstanceOf(NotFoundError);
    expect(failed).toEqual(["first"]);
  });

  it("refuses a stream whose request is invalid, and a plain request to a streaming endpoint", async () => {
    await using bus = await rpcBus();
    const s = subject("watch");
    await using _svc = await serveService(bus.server, {
      name: "q",
      version: "0.0.1",
      endpoints: {
        watch: streamEndpoint({ subject: s, schema: z.object({ selector: z.string() }), stream: async () => {} }),
      },
    });
    await expect(openServiceStream(bus.client, s, { selector: 42 })).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(requestService(bus.client, s, { selector: "x" })).rejects.toThrow(/openServiceStream/);
  });

  it("ends the stream when the caller stops answering heartbeats", async () => {
    await using bus = await rpcBus();
    const s = subject("watch");
    const timers = new ManualTimers();
    let aborted = false;
    await using _svc = await serveService(bus.server, {
      name: "q",
      version: "0.0.1",
      timers,
      endpoints: {
        watch: streamEndpoint({
          subject: s,
          heartbeatMs: 1000,
          stream: async (_req, sink) => {
            await sink.closed;
            aborted = true;
          },
        }),
      },
    });
    const caller = await connectBus({ servers: bus.nats.url });
    await openServiceStream(caller, s, {});

    // While the caller is alive, it answers each heartbeat and the service arms the next one.
    await waitFor(() => timers.armed === 1, { message: "the first heartbeat timer" });
    timers.fireAll();
    await waitFor(() => timers.armed === 1, { message: "the heartbeat to be answered and re-armed" });
    expect(aborted).toBe(false);

    // The caller's process dies without cancelling: the next heartbeat gets no answer.
    await caller.close();
    timers.fireAll();
    await waitFor(() => aborted, { message: "the service to end the stream of a vanished caller" });
  });

  it("fails the caller's iteration when the service goes silent, and when the service stops", async () => {
    await using bus = await rpcBus();
    const s = subject("watch");
    const clientTimers = new ManualTimers();
    const svc = await serveService(bus.server, {
      name: "q",
      version: "0.0.1",
      timers: new ManualTimers(),
      endpoints: { watch: streamEndpoint({ subject: s, stream: (_req, sink) => sink.closed }) },
    });

    const silent = await openServiceStream(bus.client, s, {}, { timers: clientTimers });
    const silentDone = (async () => {
      for await (const _ of silent) {
        // no events expected
      }
    })();
    clientTimers.fireAll();
    await expect(silentDone).rejects.toThrow(/silent/);

    const stopped = await openServiceStream(bus.client, s, {}, { timers: new ManualTimers() });
    const stoppedDone = (async () => {
      for await (const _ of stopped) {
        // no events expected
      }
    })();
    await svc.stop();
    await expect(stoppedDone).rejects.toThrow(/service is stopping/);
    await expect(stoppedDone).rejects.toBeInstanceOf(UnavailableError);
  });
});
