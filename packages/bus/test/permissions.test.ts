import { startNats, uniqueName, waitFor } from "@fedview/testkit";
import { headers, type NatsConnection } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  connectBus,
  InvalidRequestError,
  inboxPrefixFor,
  natsAuthorization,
  openServiceStream,
  SERVICE_ROLES,
  serveService,
  servicePermissions,
  streamEndpoint,
  toNatsConnectionOptions,
} from "../src/index.js";

/** Records the permission violations the server reports on a connection. */
function violations(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error" && s.error.name === "PermissionViolationError") seen.push(s.error.message);
    }
  })();
  return seen;
}

describe("inbox prefixes", () => {
  it("gives a client that logs in with a user name its own inbox prefix", () => {
    expect(inboxPrefixFor("fv-query")).toBe("_INBOX.fv-query");
    expect(inboxPrefixFor("a.b c")).toBe("_INBOX.a=2Eb=20c");
    expect(toNatsConnectionOptions({ servers: "nats://h", user: "fv-query", password: "p" }).inboxPrefix).toBe(
      "_INBOX.fv-query",
    );
    expect(toNatsConnectionOptions({ servers: "nats://h", token: "t" }).inboxPrefix).toBeUndefined();
    expect(
      toNatsConnectionOptions({ servers: "nats://h", user: "u", password: "p", inboxPrefix: "_R.u" }).inboxPrefix,
    ).toBe("_R.u");
  });

  it("confines each role's subscriptions to its inbox prefix", () => {
    for (const role of SERVICE_ROLES) {
      const p = servicePermissions(role, { user: "someone" });
      expect(p.subscribe.allow).toContain("_INBOX.someone.>");
      expect(p.subscribe.allow).not.toContain("_INBOX.>");
    }
  });
});

describe("lease permissions", () => {
  it("lets the config service write its leader lease and no cluster's", () => {
    const allow = servicePermissions("config-service").publish.allow;
    expect(allow).toContain("$KV.fedview-leases.leader=3Aconfig-service");
    expect(allow).not.toContain("$KV.fedview-leases.>");
    expect(servicePermissions("etcd-connector").publish.allow).toContain("$KV.fedview-leases.>");
  });
});

describe("servicePermissions on a real nats-server", () => {
  it("lets a confined user make requests and serve a streaming endpoint under its prefix", async () => {
    await using nats = await startNats({
      jetstream: false,
      extraConfig: natsAuthorization([
        { user: "svc", password: "s", role: "query-service" },
        { user: "client", password: "c", role: "query-client" },
      ]),
    });
    await using svc = await connectBus({ servers: nats.url, user: "svc", password: "s" });
    await using client = await connectBus({ servers: nats.url, user: "client", password: "c" });
    const svcDenied = violations(svc);
    const clientDenied = violations(client);
    await using _service = await serveService(svc, {
      name: "fedview-query",
      version: "0.0.1",
      endpoints: {
        watch: streamEndpoint({
          subject: "fedview.v1.query.watch",
          schema: z.object({ n: z.number() }),
          heartbeatMs: 200,
          stream: async (req, sink) => {
            for (let i = 0; i < req.n; i++) sink.send(i);
            await sink.closed;
          },
        }),
      },
    });
    await using stream = await openServiceStream<number>(client, "fedview.v1.query.watch", { n: 3 });
    const got: number[] = [];
    for await (const event of stream) {
      got.push(event);
      if (got.length === 3) break;
    }
    expect(got).toEqual([0, 1, 2]);
    // Heartbeats and the cancel went through the confined inboxes without a violation.
    await svc.flush();
    await client.flush();
    expect([...svcDenied, ...clientDenied]).toEqual([]);
  });

  it("refuses to stream onto a fedview or system subject named as the caller's inbox", async () => {
    await using nats = await startNats({ jetstream: false });
    await using nc = await connectBus({ servers: nats.url });
    const subject = `fedview.v1.query.${uniqueName("w")}`;
    await using _service = await serveService(nc, {
      name: "t",
      version: "0.0.1",
      endpoints: {
        watch: streamEndpoint({ subject, stream: async (_req, sink) => void sink.send("x") }),
      },
    });
    const sniffer = nc.subscribe("fedview.v1.res.>");
    for (const inbox of ["fedview.v1.res.east.WorkloadEndpoint.x", "$KV.fedview-connections.etcdv3.x", "a.*.b"]) {
      const h = headers();
      h.set("Fedview-Stream-Inbox", inbox);
      const reply = await nc.request(subject, new TextEncoder().encode("{}"), { timeout: 5000, headers: h });
      expect(reply.headers?.get("Nats-Service-Error-Code")).toBe("400");
      expect(reply.json<{ error: { name: string; issues: { path: string }[] } }>().error).toMatchObject({
        name: InvalidRequestError.name,
        issues: [{ path: "Fedview-Stream-Inbox" }],
      });
    }
    await nc.flush();
    expect(sniffer.getProcessed()).toBe(0);
  });

  it("denies a query client the connection-config bucket and other users' replies", async () => {
    await using nats = await startNats({
      jetstream: false,
      extraConfig: natsAuthorization([{ user: "client", password: "c", role: "query-client" }]),
    });
    await using client = await connectBus({ servers: nats.url, user: "client", password: "c" });
    const denied = violations(client);
    client.subscribe("$KV.fedview-connections.>");
    client.subscribe("_INBOX.>");
    client.publish("$JS.API.STREAM.MSG.GET.KV_fedview-connections", "{}");
    await client.flush();
    await waitFor(() => denied.length >= 3, { message: "three permission violations" });
    expect(denied.join("\n")).toMatch(/Subscription to "\$KV\.fedview-connections\.>"/);
    expect(denied.join("\n")).toMatch(/Subscription to "_INBOX\.>"/);
    expect(denied.join("\n")).toMatch(/Publish to "\$JS\.API\.STREAM\.MSG\.GET\.KV_fedview-connections"/);
  });
});
