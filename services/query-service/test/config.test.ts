/** Reading the query service's configuration from the environment. */
import { describe, expect, it } from "vitest";
import { QueryServiceConfigError, readQueryServiceConfig } from "../src/index.js";

describe("readQueryServiceConfig", () => {
  it("applies defaults", () => {
    expect(readQueryServiceConfig({})).toEqual({
      bus: { servers: ["nats://127.0.0.1:4222"], name: "fedview-query-service" },
      stateStream: "FEDVIEW_STATE",
      ensureStream: true,
      queue: "fedview-query",
      metrics: { host: "0.0.0.0", port: 9464 },
      readyTimeoutMs: 120_000,
      progressIntervalMs: 5000,
      watchHeartbeatMs: 5000,
      tombstoneRetentionMs: 300_000,
      retry: { initialMs: 500, maxMs: 30_000 },
      logLevel: "info",
    });
  });

  it("reads every variable", () => {
    const config = readQueryServiceConfig({
      FEDVIEW_NATS_URL: "tls://a:4222, tls://b:4222",
      FEDVIEW_NATS_USER: "query",
      FEDVIEW_NATS_PASSWORD: "secret",
      FEDVIEW_NATS_TLS_CA_FILE: "/etc/fedview/ca.pem",
      FEDVIEW_NATS_TLS_CERT_FILE: "/etc/fedview/tls.crt",
      FEDVIEW_NATS_TLS_KEY_FILE: "/etc/fedview/tls.key",
      FEDVIEW_STATE_STREAM: "STATE_2",
      FEDVIEW_ENSURE_STREAM: "false",
      FEDVIEW_QUERY_QUEUE: "q1",
      FEDVIEW_METRICS_HOST: "127.0.0.1",
      FEDVIEW_METRICS_PORT: "0",
      FEDVIEW_READY_TIMEOUT_MS: "1000",
      FEDVIEW_PROGRESS_INTERVAL_MS: "250",
      FEDVIEW_WATCH_HEARTBEAT_MS: "2000",
      FEDVIEW_TOMBSTONE_RETENTION_MS: "60000",
      FEDVIEW_LOG_LEVEL: "debug",
    });
    expect(config).toMatchObject({
      bus: {
        servers: ["tls://a:4222", "tls://b:4222"],
        user: "query",
        password: "secret",
        tls: { caFile: "/etc/fedview/ca.pem", certFile: "/etc/fedview/tls.crt", keyFile: "/etc/fedview/tls.key" },
      },
      stateStream: "STATE_2",
      ensureStream: false,
      queue: "q1",
      metrics: { host: "127.0.0.1", port: 0 },
      readyTimeoutMs: 1000,
      progressIntervalMs: 250,
      watchHeartbeatMs: 2000,
      tombstoneRetentionMs: 60_000,
      logLevel: "debug",
    });
  });

  it("disables the HTTP endpoint with port off", () => {
    expect(readQueryServiceConfig({ FEDVIEW_METRICS_PORT: "off" }).metrics).toBeNull();
  });

  it.each([
    ["FEDVIEW_METRICS_PORT", "70000"],
    ["FEDVIEW_READY_TIMEOUT_MS", "soon"],
    ["FEDVIEW_ENSURE_STREAM", "maybe"],
    ["FEDVIEW_LOG_LEVEL", "loud"],
    ["FEDVIEW_STATE_STREAM", "a.b"],
    ["FEDVIEW_QUERY_QUEUE", "a b"],
  ])("rejects %s=%s, naming the variable", (name, value) => {
    expect(() => readQueryServiceConfig({ [name]: value })).toThrow(QueryServiceConfigError);
    expect(() => readQueryServiceConfig({ [name]: value })).toThrow(name);
  });

  it("rejects two authentication methods at once", () => {
    expect(() => readQueryServiceConfig({ FEDVIEW_NATS_TOKEN: "t", FEDVIEW_NATS_CREDS_FILE: "/x.creds" })).toThrow(
      /one authentication method/,
    );
  });

  it("rejects a client certificate without its key", () => {
    expect(() => readQueryServiceConfig({ FEDVIEW_NATS_TLS_CERT_FILE: "/tls.crt" })).toThrow(QueryServiceConfigError);
  });
});
