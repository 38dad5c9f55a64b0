/**
 * deploy/docker/Dockerfile, read rather than built (no Docker engine here): its stages, what each
 * copies and runs, the non-root runtime, and its agreement with the repository — the paths it copies,
 * the workspaces npm installs, the build output the entry script runs, and the SERVICE values that
 * the compose file and the Kubernetes Deployments use.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { environmentOf } from "./support/compose.js";
import { argumentWords, expandArgs, parseDockerfile, type Stage } from "./support/dockerfile.js";
import { loadManifests, MANIFEST_SETS, workloads } from "./support/manifests.js";
import {
  DEV_KEYS,
  isRecord,
  readRepoFile,
  readYamlDocuments,
  repoPath,
  servicesWithEntryPoint,
} from "./support/repo.js";
import { loadServiceConfig, metricsPortOf } from "./support/service-config.js";

const dockerfile = parseDockerfile(readRepoFile("deploy/docker/Dockerfile"));
const [build, runtime] = dockerfile.stages as [Stage, Stage];
const commands = (stage: Stage, keyword: string) =>
  stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

/** The ports the healthcheck script asks by default, per service. */
function healthcheckDefaults(): Record<string, number> {
  const source = readRepoFile("deploy/docker/healthcheck.mjs");
  const table = /const DEFAULT_METRICS_PORTS = \{([^}]*)\}/.exec(source);
  if (!table) throw new Error("healthcheck.mjs has no DEFAULT_METRICS_PORTS table");
  return Object.fromEntries([...table[1]!.matchAll(/"([a-z0-9-]+)": (\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
}

/** Every SERVICE value the compose file and the Kubernetes Deployments set. */
function serviceValuesInUse(): string[] {
  const [compose] = readYamlDocuments("deploy/compose/docker-compose.yml") as { services: Record<string, unknown> }[];
  const fromCompose = Object.values(compose!.services)
    .map((s) => (isRecord(s) ? environmentOf(s["environment"])["SERVICE"] : undefined))
    .filter((v): v is string => v !== undefined);
  const fromK8s = workloads(loadManifests(MANIFEST_SETS.local)).flatMap((w) =>
    w.pod.containers.flatMap((c) => (c.env ?? []).filter((e) => e.name === "SERVICE").map((e) => e.value!)),
  );
  return [...new Set([...fromCompose, ...fromK8s])].sort();
}

describe("the Dockerfile", () => {
  it("has a build stage and a runtime stage, both on node:20-bookworm-slim", () => {
    expect(dockerfile.stages.map((s) => [expandArgs(s.base, dockerfile.preamble), s.name])).toEqual([
      ["node:20-bookworm-slim", "build"],
      ["node:20-bookworm-slim", "runtime"],
    ]);
  });

  it("installs every dependency and builds all workspaces in the build stage, after copying their sources", () => {
    const runs = commands(build, "RUN");
    const ci = build.instructions.findIndex((i) => i.keyword === "RUN" && /^npm ci\b/.test(i.args));
    const buildStep = build.instructions.findIndex((i) => i.keyword === "RUN" && i.args === "npm run build");
    expect(ci).toBeGreaterThan(-1);
    expect(runs[0]).not.toMatch(/--omit/);
    expect(buildStep).toBeGreaterThan(ci);
    const copied = build.instructions.slice(0, ci).filter((i) => i.keyword === "COPY");
    const sources = copied.flatMap((i) => argumentWords(i).slice(0, -1));
    expect(sources).toEqual(expect.arrayContaining(["package.json", "package-lock.json", "packages", "services"]));
  });

  it("installs production dependencies only in the runtime stage, with NODE_ENV=production", () => {
    expect(commands(runtime, "RUN").some((r) => /^npm ci --omit=dev\b/.test(r))).toBe(true);
    expect(commands(runtime, "RUN").some((r) => /npm run build|npm ci(?! --omit=dev)/.test(r))).toBe(false);
    expect(commands(runtime, "ENV").join(" ")).toMatch(/\bNODE_ENV=production\b/);
  });

  it("runs as the unprivileged node user, set after the last RUN", () => {
    const users = runtime.instructions.filter((i) => i.keyword === "USER");
    expect(users.map((u) => u.args)).toEqual(["node"]);
    const lastRun = runtime.instructions.findLastIndex((i) => i.keyword === "RUN");
    expect(runtime.instructions.indexOf(users[0]!)).toBeGreaterThan(lastRun);
  });

  it("starts through the entry script and checks health through the healthcheck script", () => {
    expect(commands(runtime, "ENTRYPOINT").map((a) => JSON.parse(a))).toEqual([["/app/deploy/docker/entrypoint.sh"]]);
    const healthcheck = runtime.instructions.find((i) => i.keyword === "HEALTHCHECK");
    expect(healthcheck?.args).toBe('CMD ["node", "/app/deploy/docker/healthcheck.mjs"]');
    expect(commands(runtime, "WORKDIR")).toEqual(["/app"]);
    const copies = runtime.instructions.filter((i) => i.keyword === "COPY" && i.flags["from"] === undefined);
    expect(copies.flatMap((i) => argumentWords(i))).toEqual(
      expect.arrayContaining(["deploy/docker/entrypoint.sh", "deploy/docker/healthcheck.mjs"]),
    );
  });

  it("exposes the metrics port of every service, as the healthcheck knows them", () => {
    const exposed = commands(runtime, "EXPOSE")
      .flatMap((a) => a.split(/\s+/))
      .map(Number)
      .sort();
    expect(exposed).toEqual(Object.values(healthcheckDefaults()).sort());
  });

  it("copies only paths that exist in the repository, and from stages defined before", () => {
    const names = new Set<string>();
    for (const stage of dockerfile.stages) {
      for (const instruction of stage.instructions.filter((i) => i.keyword === "COPY")) {
        const words = argumentWords(instruction);
        const from = instruction.flags["from"];
        if (from !== undefined) expect(names.has(from)).toBe(true);
        else for (const source of words.slice(0, -1)) expect(existsSync(repoPath(source)), source).toBe(true);
      }
      if (stage.name) names.add(stage.name);
    }
  });

  it("stages every workspace's package.json, compiled dist/src and bin, which is what the packages export", () => {
    const root = JSON.parse(readRepoFile("package.json")) as { workspaces: string[] };
    expect(root.workspaces).toEqual(["packages/*", "services/*"]);
    expect(commands(build, "RUN").join("\n")).toMatch(/for dir in packages\/\* services\/\*/);
    for (const group of ["packages", "services"]) {
      for (const entry of readdirSync(repoPath(group), { withFileTypes: true })) {
        const manifest = repoPath(group, entry.name, "package.json");
        if (!entry.isDirectory() || !existsSync(manifest)) continue;
        const pkg = JSON.parse(readFileSync(manifest, "utf8")) as {
          exports?: Record<string, { default: string }>;
          bin?: Record<string, string>;
        };
        for (const target of Object.values(pkg.exports ?? {})) expect(target.default).toMatch(/^\.\/dist\/src\//);
        for (const bin of Object.values(pkg.bin ?? {})) expect(bin).toMatch(/^(\.\/)?bin\//);
      }
    }
  });

  it("keeps dependencies and build output out of the build context", () => {
    const ignored = readRepoFile("deploy/docker/Dockerfile.dockerignore")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    expect(ignored).toEqual(expect.arrayContaining(["**/node_modules", "**/dist"]));
    const copied = dockerfile.stages
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === "COPY" && i.flags["from"] === undefined)
      .flatMap((i) => argumentWords(i).slice(0, -1));
    for (const source of copied) {
      expect(
        ignored.some((pattern) => pattern === source || source.startsWith(`${pattern}/`)),
        source,
      ).toBe(false);
    }
  });
});

describe("SERVICE values", () => {
  it("used by the compose file and the Kubernetes Deployments each name services/<name>/src/main.ts", () => {
    const used = serviceValuesInUse();
    expect(used).toEqual(["config-service", "etcd-connector", "k8s-connector", "query-service"]);
    expect(servicesWithEntryPoint()).toEqual(expect.arrayContaining(used));
  });

  it("map to services/<name>/dist/src/main.js, where each service's tsconfig compiles src/main.ts", () => {
    expect(readRepoFile("deploy/docker/entrypoint.sh")).toContain('main="$app_dir/services/$service/dist/src/main.js"');
    for (const service of serviceValuesInUse()) {
      const tsconfig = JSON.parse(readRepoFile(`services/${service}/tsconfig.json`)) as {
        compilerOptions: { rootDir: string; outDir: string };
        include: string[];
      };
      expect(tsconfig.compilerOptions).toMatchObject({ rootDir: ".", outDir: "dist" });
      expect(tsconfig.include).toContain("src");
    }
  });

  it("have healthcheck default ports equal to the defaults in each service's config", async () => {
    const defaults = healthcheckDefaults();
    expect(Object.keys(defaults).sort()).toEqual(serviceValuesInUse());
    const env = {
      FEDVIEW_CONNECTOR_XKEY_PUBLIC: DEV_KEYS.connectorPublic,
      FEDVIEW_CONNECTOR_XKEY_SEED: DEV_KEYS.connectorSeed,
    };
    for (const service of Object.keys(defaults)) {
      const reader = await loadServiceConfig(service);
      expect(metricsPortOf(reader.read(env)), service).toBe(defaults[service]);
    }
  });
});
