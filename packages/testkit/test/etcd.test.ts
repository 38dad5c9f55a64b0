import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { describe, expect, it } from "vitest";
import { freePorts, startEtcd, uniqueName } from "../src/index.js";

/** A temp dir removed at the end of the test: a kept `dir` is the caller's to delete. */
async function keptDir(): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), "fedview-kept-etcd-"));
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) };
}

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

  it("keeps data, ports, certificates and credentials in dir for the next start", async () => {
    await using dir = await keptDir();
    const key = `/${uniqueName("kept")}`;
    let first: { url: string; ca: string; clientCert: string };
    {
      await using etcd = await startEtcd({ dir: dir.path, tls: true, auth: true });
      first = { url: etcd.url, ca: etcd.tls!.ca, clientCert: etcd.tls!.client.cert };
      expect(etcd.dir).toBe(dir.path);
      expect(etcd.tls!.caFile.startsWith(dir.path)).toBe(true);
      await etcd.etcdctl("put", key, "v1");
    }
    expect(existsSync(join(dir.path, "data"))).toBe(true);

    await using again = await startEtcd({ dir: dir.path, tls: true, auth: true });
    expect(again.url).toBe(first.url);
    // Same CA and client certificate: clients configured from the files keep working.
    expect(await readFile(again.tls!.caFile, "utf8")).toBe(first.ca);
    expect(again.tls!.client.cert).toBe(first.clientCert);
    expect((await again.etcdctl("get", key, "--print-value-only")).trim()).toBe("v1");
    const client = new Etcd3(await again.clientOptions());
    try {
      expect(await client.get(key).string()).toBe("v1");
    } finally {
      client.close();
    }
    await expect(again.tls!.authority.issue("other")).rejects.toThrow(/issues no certificates/);
  });

  it("keeps the root password of an authenticated server without TLS", async () => {
    await using dir = await keptDir();
    {
      await using etcd = await startEtcd({
        dir: dir.path,
        auth: { users: [{ name: "reader", password: "pw", read: ["/calico/"] }] },
      });
      await etcd.etcdctl("put", "/calico/a", "1");
    }
    await using again = await startEtcd({
      dir: dir.path,
      auth: { users: [{ name: "reader", password: "pw", read: ["/calico/"] }] },
    });
    const root = new Etcd3(await again.clientOptions());
    const reader = new Etcd3({ hosts: again.endpoints, auth: { username: "reader", password: "pw" } });
    try {
      expect(await root.get("/calico/a").string()).toBe("1");
      expect(await reader.get("/calico/a").string()).toBe("1");
    } finally {
      root.close();
      reader.close();
    }
  });

  it("listens on the fixed client and peer ports it is given", async () => {
    const [port, peerPort] = (await freePorts(2)) as [number, number];
    await using etcd = await startEtcd({ port, peerPort });
    expect(etcd.url).toBe(`http://127.0.0.1:${port}`);
    await etcd.etcdctl("put", "/fixed", "port");
    expect((await etcd.etcdctl("get", "/fixed", "--print-value-only")).trim()).toBe("port");
  });
});
