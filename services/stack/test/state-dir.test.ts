import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { StateDirInUseError } from "../src/index.js";
import { claimStateDir, createLayout, readStackRecord, stateLayout, writeStackRecord } from "../src/state-dir.js";

async function tempLayout() {
  const root = await mkdtemp(join(tmpdir(), "fedview-state-"));
  const layout = stateLayout(root);
  await createLayout(layout);
  return { layout, [Symbol.asyncDispose]: () => rm(root, { recursive: true, force: true }) };
}

/** A long-running process whose command line names `marker`, as a server of a stack names its state dir. */
function idleProcess(marker: string): ChildProcess {
  return spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", marker], { stdio: "ignore" });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()));
}

describe("the state directory", () => {
  it("remembers ports and what was seeded, and starts empty in a new directory", async () => {
    await using dir = await tempLayout();
    expect(await readStackRecord(dir.layout)).toEqual({ v: 1, ports: {}, seeded: {} });
    await writeStackRecord(dir.layout, { v: 1, ports: { nats: 4222 }, seeded: { local: true } });
    expect(await readStackRecord(dir.layout)).toEqual({ v: 1, ports: { nats: 4222 }, seeded: { local: true } });
    await writeFile(dir.layout.stackFile, "{ not json");
    await expect(readStackRecord(dir.layout)).rejects.toThrow(/stack.json is not JSON; delete it/);
  });

  it("refuses a second stack while the first one runs, and is free again once released", async () => {
    await using dir = await tempLayout();
    const claim = await claimStateDir(dir.layout, () => {});
    await expect(claimStateDir(dir.layout, () => {})).rejects.toThrow(StateDirInUseError);
    await expect(claimStateDir(dir.layout, () => {})).rejects.toThrow(
      `(PID ${process.pid}) is running on ${dir.layout.root}`,
    );
    await claim.release();
    expect(existsSync(dir.layout.pidFile)).toBe(false);
    await (await claimStateDir(dir.layout, () => {})).release();
  });

  it("stops the servers a dead stack left running on this directory, and nothing else", async () => {
    await using dir = await tempLayout();
    const leftover = idleProcess(join(dir.layout.root, "nats", "n1.conf"));
    const unrelated = idleProcess("/somewhere/else");
    const gone = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await exited(gone);
    try {
      // The stack (a PID that no longer runs) recorded its two servers before it died.
      await writeFile(dir.layout.pidFile, JSON.stringify({ pid: gone.pid, children: [leftover.pid, unrelated.pid] }));
      const said: string[] = [];
      const claim = await claimStateDir(dir.layout, (line) => said.push(line));
      await exited(leftover);
      expect(leftover.signalCode).toBe("SIGTERM");
      expect(unrelated.exitCode).toBeNull();
      expect(said).toEqual([
        `stopping ${process.execPath} (PID ${leftover.pid}), left running by a stack that did not stop cleanly`,
      ]);
      expect(JSON.parse(await readFile(dir.layout.pidFile, "utf8"))).toEqual({ pid: process.pid, children: [] });
      await claim.recordChildren([11, 12]);
      expect(JSON.parse(await readFile(dir.layout.pidFile, "utf8"))).toEqual({ pid: process.pid, children: [11, 12] });
      await claim.release();
    } finally {
      leftover.kill("SIGKILL");
      unrelated.kill("SIGKILL");
    }
  });
});
