import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSealingKeyPair } from "@fedview/bus";
import { describe, expect, it } from "vitest";
import { ConfigError, readEtcdConnectorConfig } from "../src/index.js";

const seed = new TextDecoder().decode(createSealingKeyPair().getSeed());

describe("readEtcdConnectorConfig", () => {
  it("applies the defaults", () => {
    const config = readEtcdConnectorConfig({ FEDVIEW_CONNECTOR_XKEY_SEED: seed });
    expect(config).toMatchObject({
      bus: { servers: ["nats://127.0.0.1:4222"], name: "fedview-etcd-connector" },
      metrics: { host: "0.0.0.0", port: 9466 },
      ensureTopology: true,
      leaseTtlMs: 6000,
      relistConcurrency: 4,
      etcdPageSize: 10_000,
      etcdPageBytes: 8 * 1024 * 1024,
      etcdMaxReceiveBytes: 64 * 1024 * 1024,
      backoff: { initialMs: 500, maxMs: 30_000 },
      logLevel: "info",
    });
    expect(config.replicaId).toMatch(/-\d+-[0-9a-f]{6}$/);
  });

  it("reads every setting it documents", async () => {
    const dir = await mkdtemp(join(tmpdir(), "fedview-etcd-connector-"));
    const seedFile = join(dir, "seed");
    await writeFile(seedFile, `${seed}\n`);
    const config = readEtcdConnectorConfig({
      FEDVIEW_NATS_URL: "nats://a:4222, nats://b:4222",
      FEDVIEW_NATS_USER: "connector",
      FEDVIEW_NATS_PASSWORD: "pw",
      FEDVIEW_CONNECTOR_XKEY_SEED_FILE: seedFile,
      FEDVIEW_CONFIG_XKEY_PUBLIC: "XAAA,XBBB",
      FEDVIEW_REPLICA_ID: "replica-1",
      FEDVIEW_METRICS_PORT: "off",
      FEDVIEW_RELIST_CONCURRENCY: "2",
      FEDVIEW_ENSURE_STREAM: "false",
      FEDVIEW_LOG_LEVEL: "debug",
      FEDVIEW_ETCD_PAGE_SIZE: "2000",
      FEDVIEW_ETCD_PAGE_BYTES: "1048576",
      FEDVIEW_ETCD_MAX_RECEIVE_BYTES: "16777216",
    });
    expect(config).toMatchObject({
      bus: { servers: ["nats://a:4222", "nats://b:4222"], user: "connector", password: "pw" },
      xkeySeed: seed,
      expectedSenders: ["XAAA", "XBBB"],
      replicaId: "replica-1",
      metrics: null,
      relistConcurrency: 2,
      ensureTopology: false,
      logLevel: "debug",
      etcdPageSize: 2000,
      etcdPageBytes: 1_048_576,
      etcdMaxReceiveBytes: 16_777_216,
    });
  });

  it.each([
    [{}, /exactly one of FEDVIEW_CONNECTOR_XKEY_SEED and FEDVIEW_CONNECTOR_XKEY_SEED_FILE/],
    [{ FEDVIEW_CONNECTOR_XKEY_SEED: "SUAAAA-not-a-curve-seed" }, /curve seed starting with SX/],
    [{ FEDVIEW_CONNECTOR_XKEY_SEED_FILE: "/nonexistent/seed" }, /cannot read \/nonexistent\/seed/],
    [{ FEDVIEW_CONNECTOR_XKEY_SEED: seed, FEDVIEW_METRICS_PORT: "99999" }, /FEDVIEW_METRICS_PORT: expected a port/],
    [
      { FEDVIEW_CONNECTOR_XKEY_SEED: seed, FEDVIEW_RELIST_CONCURRENCY: "0" },
      /FEDVIEW_RELIST_CONCURRENCY: expected an integer ≥ 1/,
    ],
    [
      { FEDVIEW_CONNECTOR_XKEY_SEED: seed, FEDVIEW_ENSURE_STREAM: "maybe" },
      /FEDVIEW_ENSURE_STREAM: expected true or false/,
    ],
    [
      { FEDVIEW_CONNECTOR_XKEY_SEED: seed, FEDVIEW_BACKOFF_INITIAL_MS: "5000", FEDVIEW_BACKOFF_MAX_MS: "100" },
      /must not be below/,
    ],
    [
      {
        FEDVIEW_CONNECTOR_XKEY_SEED: seed,
        FEDVIEW_ETCD_PAGE_BYTES: "8000000",
        FEDVIEW_ETCD_MAX_RECEIVE_BYTES: "4000000",
      },
      /FEDVIEW_ETCD_PAGE_BYTES \(8000000\) must not exceed FEDVIEW_ETCD_MAX_RECEIVE_BYTES \(4000000\)/,
    ],
    [
      { FEDVIEW_CONNECTOR_XKEY_SEED: seed, FEDVIEW_ETCD_MAX_RECEIVE_BYTES: "100" },
      /FEDVIEW_ETCD_MAX_RECEIVE_BYTES: expected an integer ≥ 1024/,
    ],
  ])("rejects %j", (env, message) => {
    expect(() => readEtcdConnectorConfig(env)).toThrow(ConfigError);
    expect(() => readEtcdConnectorConfig(env)).toThrow(message);
  });

  it("never repeats a secret in its errors", () => {
    const env = { FEDVIEW_CONNECTOR_XKEY_SEED: seed, FEDVIEW_NATS_PASSWORD: "hunter2", FEDVIEW_LEASE_TTL_MS: "5" };
    expect(() => readEtcdConnectorConfig(env)).toThrow(/FEDVIEW_LEASE_TTL_MS/);
    try {
      readEtcdConnectorConfig(env);
    } catch (err) {
      expect(String(err)).not.toContain("hunter2");
      expect(String(err)).not.toContain(seed);
    }
  });
});
