import { Etcd3 } from "etcd3";
import { describe, expect, it } from "vitest";
import { startEtcd, uniqueName } from "../src/index.js";

describe("startEtcd", () => {
  it("starts a real etcd that stores and returns a key", async () => {
    await using etcd = await startEtcd();
    const client = new Etcd3(await etcd.clientOptions());
    try {
      const key = `/${uniqueName("k")}`;
      await client.put(key).value("v1");
      expect(await client.get(key).string()).toBe("v1");
    } finally {
      client.close();
    }
  });

  it("keeps data across a restart", async () => {
    await using etcd = await startEtcd();
    const key = `/${uniqueName("k")}`;
    let client = new Etcd3(await etcd.clientOptions());
    await client.put(key).value("durable");
    client.close();
    await etcd.restart();
    client = new Etcd3(await etcd.clientOptions());
    try {
      expect(await client.get(key).string()).toBe("durable");
    } finally {
      client.close();
    }
  });

  it("serves mutual TLS and refuses a client without a certificate", async () => {
    await using etcd = await startEtcd({ tls: true });
    expect(etcd.url.startsWith("https://")).toBe(true);
    const good = new Etcd3(await etcd.clientOptions());
    try {
      await good.put("/tls").value("ok");
      expect(await good.get("/tls").string()).toBe("ok");
    } finally {
      good.close();
    }
    const noCert = new Etcd3({
      hosts: etcd.endpoints,
      credentials: { rootCertificate: Buffer.from(etcd.tls!.ca) },
      dialTimeout: 2000,
    });
    try {
      await expect(noCert.get("/tls").string()).rejects.toThrow();
    } finally {
      noCert.close();
    }
  });

  it("enables authentication with scoped users", async () => {
    await using etcd = await startEtcd({
      auth: { users: [{ name: "reader", password: "pw", read: ["/calico/"] }] },
    });
    const root = new Etcd3(await etcd.clientOptions());
    await root.put("/calico/a").value("1");
    await root.put("/other/b").value("2");
    root.close();

    const reader = new Etcd3({ hosts: etcd.endpoints, auth: { username: "reader", password: "pw" } });
    try {
      expect(await reader.get("/calico/a").string()).toBe("1");
      await expect(reader.get("/other/b").string()).rejects.toThrow(/permission denied/i);
      await expect(reader.put("/calico/a").value("x")).rejects.toThrow(/permission denied/i);
    } finally {
      reader.close();
    }
    const wrong = new Etcd3({ hosts: etcd.endpoints, auth: { username: "reader", password: "nope" } });
    try {
      await expect(wrong.get("/calico/a").string()).rejects.toThrow(/authentication failed|invalid/i);
    } finally {
      wrong.close();
    }
  });

  it("runs etcdctl against the server", async () => {
    await using etcd = await startEtcd({ tls: true, auth: true });
    await etcd.etcdctl("put", "/x", "y");
    expect((await etcd.etcdctl("get", "/x", "--print-value-only")).trim()).toBe("y");
  });
});
