/**
 * Benchmark of `@fedview/selector`: parse time, brute-force scan time, indexed query time for
 * selective selectors and index memory per endpoint, for 100k and 1M endpoints with ~10 labels
 * each and 1,000 profiles (250 namespace profiles, 750 service-account profiles; every endpoint
 * inherits from one of each).
 *
 * Run: `npm run bench -w @fedview/selector` (prints a table, writes bench/results.json).
 * Optional: `-- --sizes 100000` to run only some sizes.
 *
 * Memory is the growth of V8 heap plus array buffers across building the index, after full GCs;
 * the endpoint label objects fed in are garbage by then, so what remains is what the index holds
 * (its ids included).
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import v8 from "node:v8";
import vm from "node:vm";
import { LabelIndex, parseSelector, type Selector } from "../src/index.js";

// A full GC for honest memory figures, without needing `--expose-gc` on the command line.
v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const NAMESPACES = 250;
const SERVICE_ACCOUNTS_PER_NAMESPACE = 3;
const HASHES = 20_000;
const CANARY_EVERY = 10_000;
const BATCH = 10_000;

/** A small deterministic PRNG (mulberry32), so every run indexes the same data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strings decoded from bus messages are flat; template literals build rope strings. Flatten like the real input. */
function flat(s: string): string {
  return Buffer.from(s, "latin1").toString("latin1");
}

interface Endpoint {
  readonly id: string;
  readonly labels: Record<string, string>;
  readonly profiles: readonly string[];
}

function profileLabels(): Map<string, Record<string, string>> {
  const profiles = new Map<string, Record<string, string>>();
  for (let ns = 0; ns < NAMESPACES; ns++) {
    profiles.set(`kns.ns-${ns}`, {
      "pcns.projectcalico.org/name": `ns-${ns}`,
      "pcns.team": `team-${ns % 20}`,
      "pcns.env": ["prod", "staging", "dev"][ns % 3]!,
    });
    for (let sa = 0; sa < SERVICE_ACCOUNTS_PER_NAMESPACE; sa++) {
      profiles.set(`ksa.ns-${ns}.sa-${sa}`, { "pcsa.projectcalico.org/name": `sa-${sa}`, "pcsa.role": `role-${sa}` });
    }
  }
  return profiles;
}

/** Endpoint `n` of the synthetic fleet: 10 labels (11 on the rare canaries), two profiles. */
function endpoint(n: number, rand: () => number): Endpoint {
  const ns = Math.floor(rand() * NAMESPACES);
  const sa = Math.floor(rand() * SERVICE_ACCOUNTS_PER_NAMESPACE);
  const labels: Record<string, string> = {
    app: `app-${Math.floor(rand() * 200)}`,
    version: `v${Math.floor(rand() * 5)}`,
    tier: ["frontend", "backend", "db"][Math.floor(rand() * 3)]!,
    env: ["prod", "staging", "dev"][Math.floor(rand() * 3)]!,
    component: `comp-${Math.floor(rand() * 50)}`,
    release: `rel-${Math.floor(rand() * 2000)}`,
    "pod-template-hash": `h${Math.floor(rand() * HASHES)}`,
    "projectcalico.org/namespace": `ns-${ns}`,
    "projectcalico.org/orchestrator": "k8s",
    "projectcalico.org/serviceaccount": `sa-${sa}`,
  };
  if (n % CANARY_EVERY === 7) labels["canary"] = "true";
  return {
    id: flat(`cluster-${n % 4}/node-${Math.floor(n / 100)}/k8s/ns-${ns}.pod-${n}/eth0`),
    labels,
    profiles: [`kns.ns-${ns}`, `ksa.ns-${ns}.sa-${sa}`],
  };
}

function heapBytes(): number {
  gc();
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

interface Timing {
  /** Median wall-clock time of one run. */
  readonly medianMs: number;
  /** 99th percentile wall-clock time of one run. */
  readonly p99Ms: number;
  /** Mean CPU time (user + system) of one run: stable when other processes share the cores. */
  readonly cpuMs: number;
  readonly matches: number;
}

function time(iterations: number, run: () => number): Timing {
  let matches = 0;
  for (let i = 0; i < Math.min(20, iterations); i++) matches = run(); // warm up the JIT
  const samples: number[] = [];
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    matches = run();
    samples.push(performance.now() - start);
  }
  const cpu = process.cpuUsage(cpuStart);
  samples.sort((a, b) => a - b);
  return {
    medianMs: samples[Math.floor(samples.length / 2)]!,
    p99Ms: samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.99))]!,
    cpuMs: (cpu.user + cpu.system) / 1000 / iterations,
    matches,
  };
}

const SELECTIVE: readonly (readonly [name: string, selector: string])[] = [
  ["equality", 'pod-template-hash == "h12345"'],
  ["in", 'pod-template-hash in {"h1", "h2", "h3"}'],
  ["has", "has(canary)"],
  ["compound &&", 'app == "app-7" && tier == "db" && has(canary)'],
  ["inherited equality (profile)", 'pcns.projectcalico.org/name == "ns-17" && pcsa.role == "role-1"'],
];

const SCANS: readonly (readonly [name: string, selector: string])[] = [
  ["ends with (no index)", 'pod-template-hash ends with "777"'],
  ["negations (no index)", '!(env in {"prod", "staging"}) && version != "v1" && !has(canary)'],
  ["inherited starts with", 'pcns.team starts with "team-1" && app contains "-19"'],
];

const PARSE_INPUTS = [
  'app == "web"',
  "has(projectcalico.org/namespace)",
  '(app == "web" || app == "api") && projectcalico.org/namespace == "prod"',
  'pcns.projectcalico.org/name in {"a", "b", "c", "d"} && !has(canary)',
  "! (has( b)||! has(a ))",
  'tier not in {"db"} && version starts with "v1" && release ends with "9"',
];

interface SizeResult {
  endpoints: number;
  profiles: number;
  buildSeconds: number;
  buildCpuSeconds: number;
  upsertMicros: number;
  indexBytesPerEndpoint: number;
  stats: ReturnType<LabelIndex["stats"]>;
  indexed: Record<string, Timing & { selector: string }>;
  indexScan: Record<string, Timing & { selector: string }>;
  bruteForce: Record<string, Timing & { selector: string }>;
}

function benchSize(endpoints: number): SizeResult {
  const profiles = profileLabels();
  const baseline = heapBytes();
  let index: LabelIndex | undefined = new LabelIndex();
  for (const [id, labels] of profiles) index.upsertParent(id, labels);
  // Endpoints are generated in batches outside the clock: the build figures are upserts only.
  const rand = random(42);
  let buildMs = 0;
  let buildCpuMicros = 0;
  for (let start = 0; start < endpoints; start += BATCH) {
    const batch: Endpoint[] = [];
    for (let n = start; n < Math.min(endpoints, start + BATCH); n++) batch.push(endpoint(n, rand));
    const clock = performance.now();
    const cpu = process.cpuUsage();
    for (const ep of batch) index.upsertItem(ep.id, ep.labels, ep.profiles);
    const used = process.cpuUsage(cpu);
    buildCpuMicros += used.user + used.system;
    buildMs += performance.now() - clock;
  }
  const buildSeconds = buildMs / 1000;
  const buildCpuSeconds = buildCpuMicros / 1e6;
  const indexBytesPerEndpoint = (heapBytes() - baseline) / endpoints;
  const built = index;

  const indexed: SizeResult["indexed"] = {};
  for (const [name, text] of SELECTIVE) {
    const selector = parseSelector(text);
    indexed[name] = { selector: text, ...time(300, () => built.query(selector).length) };
  }
  const indexScan: SizeResult["indexScan"] = {};
  for (const [name, text] of SCANS) {
    const selector = parseSelector(text);
    indexScan[name] = { selector: text, ...time(endpoints > 200_000 ? 8 : 30, () => built.count(selector)) };
  }
  const stats = built.stats();
  index = undefined;

  // Brute force: matches() over every endpoint's effective labels, precomputed as plain records.
  const records: Record<string, string>[] = [];
  const rand2 = random(42);
  for (let n = 0; n < endpoints; n++) {
    const ep = endpoint(n, rand2);
    const effective: Record<string, string> = { ...ep.labels };
    for (const profile of ep.profiles) {
      for (const [k, v] of Object.entries(profiles.get(profile) ?? {})) if (!(k in effective)) effective[k] = v;
    }
    records.push(effective);
  }
  const bruteForce: SizeResult["bruteForce"] = {};
  for (const [name, text] of [...SELECTIVE.slice(0, 1), ...SCANS]) {
    const selector: Selector = parseSelector(text);
    bruteForce[name] = {
      selector: text,
      ...time(endpoints > 200_000 ? 5 : 20, () => {
        let n = 0;
        for (const labels of records) if (selector.matches(labels)) n++;
        return n;
      }),
    };
  }
  return {
    endpoints,
    profiles: profiles.size,
    buildSeconds,
    buildCpuSeconds,
    upsertMicros: (buildSeconds * 1e6) / endpoints,
    indexBytesPerEndpoint,
    stats,
    indexed,
    indexScan,
    bruteForce,
  };
}

function benchParse(): { microsPerParse: number; selectors: number } {
  const iterations = 20_000;
  for (let i = 0; i < 2000; i++) for (const text of PARSE_INPUTS) parseSelector(text);
  const start = performance.now();
  let sink = 0;
  for (let i = 0; i < iterations; i++) for (const text of PARSE_INPUTS) sink += parseSelector(text).root.kind.length;
  const elapsed = performance.now() - start;
  if (sink === 0) throw new Error("unreachable");
  return { microsPerParse: (elapsed * 1000) / (iterations * PARSE_INPUTS.length), selectors: PARSE_INPUTS.length };
}

function fmtMs(ms: number): string {
  return ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`;
}

function main(): void {
  const sizesArg = process.argv.indexOf("--sizes");
  const sizes =
    sizesArg >= 0
      ? (process.argv[sizesArg + 1] ?? "")
          .split(",")
          .map(Number)
          .filter((n) => n > 0)
      : [100_000, 1_000_000];
  const machine = `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "unknown"}), Node ${process.version}`;
  const load = os.loadavg().map((l) => l.toFixed(2));
  console.log(`@fedview/selector benchmark — ${machine}; load average ${load.join(" ")} at start\n`);

  const parse = benchParse();
  console.log(
    `parse: ${parse.microsPerParse.toFixed(2)} µs per selector (mean over ${parse.selectors} typical selectors)\n`,
  );

  const results: SizeResult[] = [];
  for (const endpoints of sizes) {
    const r = benchSize(endpoints);
    results.push(r);
    console.log(`== ${endpoints.toLocaleString("en-US")} endpoints, ${r.profiles} profiles`);
    console.log(
      `build: ${r.buildSeconds.toFixed(2)} s wall, ${r.buildCpuSeconds.toFixed(2)} s CPU (${r.upsertMicros.toFixed(2)} µs per upsert); index memory: ${r.indexBytesPerEndpoint.toFixed(0)} bytes per endpoint`,
    );
    const rows: string[][] = [["kind", "selector", "matches", "median", "p99", "cpu/run"]];
    const row = (kind: string, t: Timing & { selector: string }): string[] => [
      kind,
      t.selector,
      String(t.matches),
      fmtMs(t.medianMs),
      fmtMs(t.p99Ms),
      fmtMs(t.cpuMs),
    ];
    for (const [name, t] of Object.entries(r.indexed)) rows.push(row(`indexed ${name}`, t));
    for (const [name, t] of Object.entries(r.indexScan)) rows.push(row(`index scan ${name}`, t));
    for (const [name, t] of Object.entries(r.bruteForce)) rows.push(row(`brute-force matches() ${name}`, t));
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
    for (const row of rows) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join("  "));
    console.log("");
  }

  const out = join(dirname(fileURLToPath(import.meta.url)), "results.json");
  writeFileSync(
    out,
    `${JSON.stringify({ machine, loadAverageAtStart: load, date: new Date().toISOString(), parse, results }, null, 2)}\n`,
  );
  console.log(`wrote ${out}`);
}

main();
