/** The service's environment: defaults, and refusals that name the variable but never a secret. */
import { createSealingKeyPair } from "@fedview/bus";
import { describe, expect, it } from "vitest";
import { ConfigError, readKubernetesConnectorConfig } from "../src/index.js";

const seed = new TextDecoder().decode(createSealingKeyPair().getSeed());

describe("readKubernetesConnectorConfig", () => {
  it("has defaults for everything but the connectors' seed", () => {
    const config = readKubernetesConnectorConfig({ FEDVIEW_CONNECTOR_XKEY_SEED: seed, FEDVIEW_REPLICA_ID: "r1" });
    expect(config).toMatchObject({
      bus: { servers: ["nats://127.0.0.1:4222"], name: "fedview-k8s-connector" },
      xkeySeed: seed,
      replicaId: "r1",
      metrics: { host: "0.0.0.0", port: 9467 },
      ensureTopology: true,
      relistConcurrency: 4,
      backoff: { initialMs: 500, maxMs: 30_000 },
      kubernetes: {
        pageSize: 500,
        requestTimeoutMs: 60_000,
        watchTimeoutSeconds: 240,
        watchdogMs: 300_000,
        watchRetries: 5,
      },
      logLevel: "info",
    });
  });

  it.each([
    ["no seed", {}, /set exactly one of FEDVIEW_CONNECTOR_XKEY_SEED and FEDVIEW_CONNECTOR_XKEY_SEED_FILE/],
    ["a seed that is not a curve seed", { FEDVIEW_CONNECTOR_XKEY_SEED: "SUABC" }, /curve seed starting with SX/],
    [
      "a watchdog that fires before the watch timeout",
      {
        FEDVIEW_CONNECTOR_XKEY_SEED: seed,
        FEDVIEW_K8S_WATCH_TIMEOUT_SECONDS: "300",
        FEDVIEW_K8S_WATCHDOG_MS: "300000",
      },
      /FEDVIEW_K8S_WATCHDOG_MS must exceed FEDVIEW_K8S_WATCH_TIMEOUT_SECONDS/,
    ],
    ["a page size of zero", { FEDVIEW_CONNECTOR_XKEY_SEED: seed, FEDVIEW_K8S_PAGE_SIZE: "0" }, /FEDVIEW_K8S_PAGE_SIZE/],
    ["a bad metrics port", { FEDVIEW_CONNECTOR_XKEY_SEED: seed, FEDVIEW_METRICS_PORT: "http" }, /FEDVIEW_METRICS_PORT/],
  ])("refuses %s", (_name, env, message) => {
    expect(() => readKubernetesConnectorConfig(env)).toThrow(ConfigError);
    expect(() => readKubernetesConnectorConfig(env)).toThrow(message);
  });

  it("never repeats a secret in its errors", () => {
    const env = { FEDVIEW_CONNECTOR_XKEY_SEED: seed, FEDVIEW_NATS_PASSWORD: "hunter2", FEDVIEW_K8S_PAGE_SIZE: "x" };
    expect(() => readKubernetesConnectorConfig(env)).toThrow(
      expect.objectContaining({ message: expect.not.stringMatching(new RegExp(`hunter2|${seed}`)) }),
    );
  });
});
