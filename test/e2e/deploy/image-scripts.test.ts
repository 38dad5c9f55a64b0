/**
 * The image's entry script and healthcheck, run for real: the entry script from an app directory laid
 * out as in the image (its own copy under deploy/docker, a service's compiled main under
 * services/<name>/dist/src), the healthcheck against a real HTTP endpoint.
 */
import { execFile } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoPath } from "./support/repo.js";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe("deploy/docker/entrypoint.sh", () => {
  let app: string;
  let entrypoint: string;

  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), "fedview-app-"));
    mkdirSync(join(app, "deploy", "docker"), { recursive: true });
    entrypoint = join(app, "deploy", "docker", "entrypoint.sh");
    copyFileSync(repoPath("deploy/docker/entrypoint.sh"), entrypoint);
    chmodSync(entrypoint, 0o755);
    for (const service of ["alpha-service", "beta-connector"]) {
      const dist = join(app, "services", service, "dist", "src");
      mkdirSync(dist, { recursive: true });
      // Reports what it was started as: its pid (to show the shell exec'd it) and its arguments.
      writeFileSync(
        join(dist, "main.js"),
        `console.log(JSON.stringify({ service: ${JSON.stringify(service)}, pid: process.pid, ppid: process.ppid, args: process.argv.slice(2) }));\n`,
      );
    }
    mkdirSync(join(app, "services", "no-build", "src"), { recursive: true });
  });
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  it("runs services/$SERVICE/dist/src/main.js with node, in place of the shell", async () => {
    const result = await run(entrypoint, [], { SERVICE: "beta-connector" });
    expect(result.code).toBe(0);
    const started = JSON.parse(result.stdout) as { service: string; pid: number; args: string[] };
    expect(started.service).toBe("beta-connector");
    expect(started.args).toEqual([]);
    // exec: node kept the shell's process, so the parent is whoever started the script (this test).
    expect(started).toMatchObject({ ppid: process.pid });
  });

  it("without SERVICE runs its arguments as a command", async () => {
    const result = await run(entrypoint, ["node", "-e", "console.log('command ran')"], {});
    expect(result).toEqual({ code: 0, stdout: "command ran\n", stderr: "" });
  });

  it.each([
    [{}, [], /set SERVICE to the service to run, one of: alpha-service beta-connector$/m],
    [{ SERVICE: "../../etc" }, [], /is not a service name/],
    [{ SERVICE: "-x" }, [], /is not a service name/],
    [{ SERVICE: "gamma" }, [], /there is no service "gamma" in this image; one of: alpha-service beta-connector/],
    [{ SERVICE: "no-build" }, [], /there is no service "no-build"/],
    [{ SERVICE: "alpha-service" }, ["--port", "1"], /takes no arguments \(got: --port 1\)/],
  ])("with %j and arguments %j exits 64 and says why", async (env, args, message) => {
    const result = await run(entrypoint, args, env as Record<string, string>);
    expect(result.code).toBe(64);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
  });
});

describe("deploy/docker/healthcheck.mjs", () => {
  let server: Server;
  let port: number;
  let ready = false;
  const script = repoPath("deploy/docker/healthcheck.mjs");
  const check = (env: Record<string, string>) => run(process.execPath, [script], env);

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/readyz" && ready) res.writeHead(200).end('{"ready":true}');
      else if (req.url === "/readyz") res.writeHead(503).end('{"ready":false,"reasons":["not connected to NATS"]}');
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("passes when /readyz answers 200", async () => {
    ready = true;
    const result = await check({ SERVICE: "query-service", FEDVIEW_METRICS_PORT: String(port) });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`http://127.0.0.1:${port}/readyz ready`);
  });

  it("fails with the service's reasons while /readyz answers 503", async () => {
    ready = false;
    const result = await check({ SERVICE: "query-service", FEDVIEW_METRICS_PORT: String(port) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("answered 503");
    expect(result.stderr).toContain("not connected to NATS");
  });

  it("fails when nothing listens", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const free = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await check({ SERVICE: "etcd-connector", FEDVIEW_METRICS_PORT: String(free) });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`http://127.0.0.1:${free}/readyz`);
  });

  it("passes without asking when the endpoint is turned off", async () => {
    const result = await check({ SERVICE: "query-service", FEDVIEW_METRICS_PORT: "off" });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("the metrics endpoint is off");
  });

  it.each([
    [{ SERVICE: "unknown" }, /no default port for SERVICE="unknown"/],
    [{ SERVICE: "query-service", FEDVIEW_METRICS_PORT: "http" }, /FEDVIEW_METRICS_PORT="http" is not a port/],
  ])("fails on %j, saying why", async (env, message) => {
    const result = await check(env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
  });
});
