/**
 * The state directory: everything the stack keeps between runs lives under one root — the servers'
 * data, the ports chosen on the first start, the sealing keys, the demo's credentials, the log — so a
 * restart on the same directory comes back with the same view at the same URLs.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { StackError, StateDirInUseError } from "./errors.js";

/** Where each part of the state lives. */
export interface StateLayout {
  root: string;
  /** Remembered ports and what the demo seeded (`stack.json`). */
  stackFile: string;
  /** The PIDs of a running stack and its server processes (`stack.pid`). */
  pidFile: string;
  /** Curve (xkey) seeds of config-service and the connectors, mode 0600. */
  keysDir: string;
  natsDir: string;
  etcdDir: string;
  /** The demo's servers and credentials. */
  demoDir: string;
  eastEtcdDir: string;
  westDir: string;
  secretStoreDir: string;
  logsDir: string;
  logFile: string;
}

/** The layout under `root` (made absolute). */
export function stateLayout(root: string): StateLayout {
  const abs = resolve(root);
  const demoDir = join(abs, "demo");
  return {
    root: abs,
    stackFile: join(abs, "stack.json"),
    pidFile: join(abs, "stack.pid"),
    keysDir: join(abs, "keys"),
    natsDir: join(abs, "nats"),
    etcdDir: join(abs, "etcd"),
    demoDir,
    eastEtcdDir: join(demoDir, "cluster-east-etcd"),
    westDir: join(demoDir, "cluster-west"),
    secretStoreDir: join(demoDir, "secret-store"),
    logsDir: join(abs, "logs"),
    logFile: join(abs, "logs", "fedview.log"),
  };
}

const portsSchema = z.record(z.string(), z.number().int().min(1).max(65_535));

const stackRecordSchema = z.object({
  v: z.literal(1),
  ports: portsSchema,
  /** Which etcd-backed demo datastores were seeded completely (seeding happens once: later edits stay). */
  seeded: z.object({ local: z.boolean().optional(), east: z.boolean().optional() }).default({}),
});

/** What `stack.json` remembers. */
export type StackRecord = z.infer<typeof stackRecordSchema>;

/** Reads `stack.json`; a fresh directory gives an empty record. */
export async function readStackRecord(layout: StateLayout): Promise<StackRecord> {
  let text: string;
  try {
    text = await readFile(layout.stackFile, "utf8");
  } catch {
    return { v: 1, ports: {}, seeded: {} };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new StackError(`${layout.stackFile} is not JSON; delete it to choose ports again`, { cause: err });
  }
  const parsed = stackRecordSchema.safeParse(json);
  if (!parsed.success) {
    throw new StackError(`${layout.stackFile} is not a stack record; delete it to choose ports again`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** Writes `stack.json` atomically (a crash never leaves half a record). */
export async function writeStackRecord(layout: StateLayout, record: StackRecord): Promise<void> {
  const temp = `${layout.stackFile}.tmp`;
  await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`);
  await rename(temp, layout.stackFile);
}

/** Reads a secret file of the state dir, creating it with `create()` (mode 0600) the first time. */
export async function keptSecret(file: string, create: () => string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const value = create();
  await writeFile(file, `${value}\n`, { mode: 0o600 });
  return value;
}

/** Creates every directory of the layout (the keys and demo credentials readable by the owner only). */
export async function createLayout(layout: StateLayout): Promise<void> {
  await mkdir(layout.root, { recursive: true });
  await mkdir(layout.keysDir, { recursive: true, mode: 0o700 });
  await mkdir(layout.logsDir, { recursive: true });
}

const pidFileSchema = z.object({ pid: z.number().int(), children: z.array(z.number().int()).default([]) });

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The command line of a process (Linux `/proc`); undefined when it cannot be read. */
async function commandLine(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").join(" ");
  } catch {
    return undefined;
  }
}

/** The state directory, claimed for this run. */
export interface StateDirClaim {
  /** Records the server processes, so a later start can stop them if this run dies without stopping. */
  recordChildren(pids: number[]): Promise<void>;
  /** Gives the directory up (removes `stack.pid`). */
  release(): Promise<void>;
}

/**
 * Claims the state directory for this process. Refuses when another live stack holds it. Server
 * processes left behind by a stack that died without stopping (SIGKILL, power loss) still hold the
 * ports and the data directories: those whose command line names this directory are stopped first.
 */
export async function claimStateDir(layout: StateLayout, say: (line: string) => void): Promise<StateDirClaim> {
  if (existsSync(layout.pidFile)) {
    let previous: z.infer<typeof pidFileSchema> | undefined;
    try {
      previous = pidFileSchema.parse(JSON.parse(await readFile(layout.pidFile, "utf8")));
    } catch {
      previous = undefined;
    }
    if (previous !== undefined && alive(previous.pid)) {
      throw new StateDirInUseError(
        `another fedview stack (PID ${previous.pid}) is running on ${layout.root}: stop it (Ctrl-C in its terminal) or use another state directory; if no stack runs, delete ${layout.pidFile}`,
      );
    }
    for (const pid of previous?.children ?? []) {
      if (!alive(pid)) continue;
      const cmdline = await commandLine(pid);
      if (cmdline === undefined || !cmdline.includes(layout.root)) continue;
      say(`stopping ${cmdline.split(" ")[0]} (PID ${pid}), left running by a stack that did not stop cleanly`);
      await stopProcess(pid);
    }
  }
  let children: number[] = [];
  const write = () => writeFile(layout.pidFile, `${JSON.stringify({ pid: process.pid, children })}\n`);
  await write();
  return {
    async recordChildren(pids) {
      children = [...new Set([...children, ...pids])];
      await write();
    },
    async release() {
      await rm(layout.pidFile, { force: true });
    },
  };
}

/** SIGTERM, then SIGKILL after 10 s. */
async function stopProcess(pid: number): Promise<void> {
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + 10_000;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }
}
