/**
 * deploy/compose/docker-compose.yml: parsed and checked against the repository and each service's own
 * config schema — every service, image, environment variable and port — and, where `docker compose`
 * is installed, by `docker compose config` itself.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { sealingKeyPairFromSeed } from "@fedview/bus";
import { describe, expect, it } from "vitest";
import { environmentOf, interpolate, parsePort } from "./support/compose.js";
import {
  DEV_KEYS,
  filesUnder,
  readRepoFile,
  readYamlDocuments,
  repoPath,
  servicesWithEntryPoint,
} from "./support/repo.js";
import { loadServiceConfig, metricsPortOf, natsServersOf } from "./support/service-config.js";

const COMPOSE_FILE = "deploy/compose/docker-compose.yml";
const COMPOSE_DIR = repoPath("deploy/compose");

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, unknown>;
  ports?: unknown[];
  volumes?: string[];
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
}

const [compose] = readYamlDocuments(COMPOSE_FILE) as { services: Record<string, ComposeService>; volumes: object }[];
const services = compose!.services;
const names = Object.keys(services);
const envOf = (name: string) => environmentOf(services[name]!.environment);
const FEDVIEW_SERVICES = names.filter((name) => envOf(name)["SERVICE"] !== undefined);
const ETCD_SERVICES = ["etcd-local", "etcd-remote"];
/** Services that run a command once rather than a long-running service. */
const ONE_SHOT = ["seed", "cli"];

/** `docker compose` needs the compose plugin, which this machine's docker client lacks. */
const composeAvailable = spawnSync("docker", ["compose", "version"], { encoding: "utf8" }).status === 0;

function hostOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

describe("the compose stack", () => {
  it("has NATS, a local and a remote etcd, every fedview service and the seeding job", () => {
    expect([...names].sort()).toEqual(
      [
        "nats",
        "etcd-local",
        "etcd-remote",
        "seed",
        "config-service",
        "etcd-connector",
        "k8s-connector",
        "query-service",
        "cli",
      ].sort(),
    );
    expect(FEDVIEW_SERVICES.sort()).toEqual(["config-service", "etcd-connector", "k8s-connector", "query-service"]);
  });

  it("runs NATS with JetStream on a volume, checked by the JetStream health endpoint", () => {
    const nats = services["nats"]!;
    expect(nats.command).toEqual(expect.arrayContaining(["--jetstream", "--store_dir", "/data"]));
    expect(nats.volumes).toContain("nats-data:/data");
    expect(nats.healthcheck?.test?.join(" ")).toContain("/healthz?js-enabled-only=true");
    expect(nats.ports?.map(parsePort)).toContainEqual({ host: 4222, container: 4222 });
  });

  it("runs two separate etcd servers that advertise their own service names", () => {
    for (const name of ETCD_SERVICES) {
      const etcd = services[name]!;
      expect(etcd.command).toContain(`--advertise-client-urls=http://${name}:2379`);
      expect(etcd.command).toContain(`--name=${name}`);
      expect(etcd.volumes).toEqual([`${name}-data:/etcd-data`]);
      expect(etcd.healthcheck?.test).toEqual(expect.arrayContaining(["etcdctl", "endpoint", "health"]));
    }
  });

  it("pins every image to a tag, and builds fedview's from deploy/docker/Dockerfile at the repository root", () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.image, name).toMatch(/^[\w./-]+:[\w.-]+$/);
      expect(service.image).not.toMatch(/:latest$/);
    }
    for (const name of [...FEDVIEW_SERVICES, ...ONE_SHOT]) {
      const service = services[name]!;
      expect(service.image).toBe("fedview:dev");
      const context = resolve(COMPOSE_DIR, service.build!.context);
      expect(context).toBe(repoPath());
      expect(existsSync(resolve(context, service.build!.dockerfile))).toBe(true);
    }
  });

  it("has a healthcheck on every long-running service, and the image's own on fedview's", () => {
    for (const name of ONE_SHOT) expect(services[name]!.healthcheck).toEqual({ disable: true });
    for (const [name, service] of Object.entries(services)) {
      if (ONE_SHOT.includes(name)) continue;
      expect(service.healthcheck?.test, name).toBeDefined();
      expect(service.restart).toBe("unless-stopped");
    }
    for (const name of FEDVIEW_SERVICES) {
      expect(services[name]!.healthcheck?.test).toEqual(["CMD", "node", "/app/deploy/docker/healthcheck.mjs"]);
    }
  });

  it("starts each service after what it needs is healthy", () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(names, `${name} → ${dependency}`).toContain(dependency);
        expect(services[dependency]!.healthcheck?.test).toBeDefined();
        expect(condition).toBe("service_healthy");
      }
    }
    for (const name of FEDVIEW_SERVICES) expect(Object.keys(services[name]!.depends_on ?? {})).toContain("nats");
    expect(Object.keys(services["config-service"]!.depends_on ?? {})).toContain("etcd-local");
    expect(Object.keys(services["seed"]!.depends_on ?? {}).sort()).toEqual(ETCD_SERVICES);
  });

  it("publishes no host port twice", () => {
    const published = Object.values(services).flatMap((s) => (s.ports ?? []).map((p) => parsePort(p).host));
    expect(published.filter((port, i) => port !== undefined && published.indexOf(port) !== i)).toEqual([]);
  });

  it("declares every named volume it mounts", () => {
    const declared = Object.keys(compose!.volumes);
    for (const service of Object.values(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(":")[0]!;
        if (source.startsWith(".") || source.startsWith("/"))
          expect(existsSync(resolve(COMPOSE_DIR, source))).toBe(true);
        else expect(declared).toContain(source);
      }
    }
  });

  it.skipIf(!composeAvailable)("is accepted by docker compose config", () => {
    const result = spawnSync("docker", ["compose", "-f", repoPath(COMPOSE_FILE), "config", "--quiet"], {
      encoding: "utf8",
    });
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });
});

describe("the seeding job", () => {
  const seed = services["seed"]!;
  const source = readRepoFile("deploy/compose/seed/seed.mjs");

  it("runs once, the seed script mounted from deploy/compose/seed", () => {
    expect(seed.restart).toBe("no");
    expect(seed.command).toEqual(["node", "/app/seed/seed.mjs"]);
    expect(seed.volumes).toEqual(["./seed:/app/seed:ro"]);
    expect(envOf("seed")["SERVICE"]).toBeUndefined();
  });

  it("sets only the variables the script reads, pointing at the compose etcd servers", () => {
    const read = new Set([...source.matchAll(/endpoints\("(SEED_[A-Z_]+)"/g)].map((m) => m[1]));
    const env = envOf("seed");
    expect(Object.keys(env).sort()).toEqual([...read].sort());
    expect(hostOf(env["SEED_LOCAL_ETCD_ENDPOINTS"]!).host).toBe("etcd-local");
    expect(hostOf(env["SEED_REMOTE_ETCD_ENDPOINTS"]!).host).toBe("etcd-remote");
    // The RCC's endpoint is read by the etcd connector, inside the compose network.
    expect(hostOf(env["SEED_RCC_ETCD_ENDPOINTS"]!)).toEqual({ host: "etcd-remote", port: 2379 });
  });
});

describe("the CLI service", () => {
  const cli = services["cli"]!;
  const cliSource = filesUnder("services/cli/src", /\.ts$/)
    .map((file) => readRepoFile(file))
    .join("\n");

  it("runs only on demand, the fedview command of the CLI workspace, after the query service is ready", () => {
    expect((cli as { profiles?: string[] }).profiles).toEqual(["tools"]);
    expect(cli.restart).toBe("no");
    const pkg = JSON.parse(readRepoFile("services/cli/package.json")) as { bin: Record<string, string> };
    expect(Object.keys(pkg.bin)).toContain(cli.command![0]);
    expect(cli.depends_on).toEqual({ "query-service": { condition: "service_healthy" } });
  });

  it("sets only variables the CLI reads, pointing at the compose NATS and local etcd", () => {
    const env = envOf("cli");
    expect(env["SERVICE"]).toBeUndefined();
    for (const name of Object.keys(env)) expect(cliSource, name).toMatch(new RegExp(`\\b${name}\\b`));
    expect(hostOf(env["FEDVIEW_NATS_URL"]!)).toEqual({ host: "nats", port: 4222 });
    expect(hostOf(env["ETCD_ENDPOINTS"]!)).toEqual({ host: "etcd-local", port: 2379 });
  });
});

describe("the fedview services against their own config schemas", () => {
  it.each(FEDVIEW_SERVICES.map((name) => [name]))(
    "%s: SERVICE names its entry point and every variable is one its schema reads",
    async (name) => {
      const env = envOf(name);
      expect(env["SERVICE"]).toBe(name);
      expect(servicesWithEntryPoint()).toContain(name);
      const reader = await loadServiceConfig(name);
      const unknown = Object.keys(env).filter((v) => v !== "SERVICE" && !reader.knownVariables.has(v));
      expect(unknown).toEqual([]);
    },
  );

  it.each(FEDVIEW_SERVICES.map((name) => [name]))(
    "%s: the config is valid, its port is the one published and checked, NATS and etcd are compose services",
    async (name) => {
      const env = envOf(name);
      const config = (await loadServiceConfig(name)).read(env);
      const port = metricsPortOf(config);
      expect(port).toBe(Number(env["FEDVIEW_METRICS_PORT"]));
      expect(services[name]!.ports?.map(parsePort)).toEqual([{ host: port, container: port }]);

      const servers = natsServersOf(config) ?? [];
      expect(servers.length).toBeGreaterThan(0);
      for (const server of servers) expect(hostOf(server)).toEqual({ host: "nats", port: 4222 });

      const etcd = env["ETCD_ENDPOINTS"];
      if (etcd !== undefined) {
        for (const url of etcd.split(",")) expect(hostOf(url)).toEqual({ host: "etcd-local", port: 2379 });
      }
    },
  );

  it("seals with keys that pair up: config-service seals to the connectors' seed, they accept its key", () => {
    expect(sealingKeyPairFromSeed(DEV_KEYS.connectorSeed).getPublicKey()).toBe(DEV_KEYS.connectorPublic);
    expect(sealingKeyPairFromSeed(DEV_KEYS.configSeed).getPublicKey()).toBe(DEV_KEYS.configPublic);
    expect(envOf("config-service")).toMatchObject({
      FEDVIEW_CONNECTOR_XKEY_PUBLIC: DEV_KEYS.connectorPublic,
      FEDVIEW_CONFIG_XKEY_SEED: DEV_KEYS.configSeed,
    });
    for (const connector of ["etcd-connector", "k8s-connector"]) {
      expect(envOf(connector)).toMatchObject({
        FEDVIEW_CONNECTOR_XKEY_SEED: DEV_KEYS.connectorSeed,
        FEDVIEW_CONFIG_XKEY_PUBLIC: DEV_KEYS.configPublic,
      });
    }
  });

  it("lets the keys be replaced from the environment", () => {
    const text = readRepoFile(COMPOSE_FILE);
    const overridden = interpolate(text, { FEDVIEW_CONNECTOR_XKEY_PUBLIC: "XOTHER" });
    expect(overridden).toContain("FEDVIEW_CONNECTOR_XKEY_PUBLIC: XOTHER");
    expect(overridden).not.toContain(DEV_KEYS.connectorPublic);
    for (const key of ["FEDVIEW_CONNECTOR_XKEY_SEED", "FEDVIEW_CONFIG_XKEY_SEED", "FEDVIEW_CONFIG_XKEY_PUBLIC"]) {
      expect(text).toMatch(new RegExp(`\\$\\{${key}:-`));
    }
  });
});
