import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "@fedview/testkit";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileWatcher, fingerprintContent, fingerprintFile } from "../src/file-watcher.js";

describe("file watcher", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "fedview-fw-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reports a rewrite with new content, and not a rewrite with the same content", async () => {
    const path = join(dir, "tls.crt");
    const barrier = join(dir, "barrier");
    await writeFile(path, "one");
    await writeFile(barrier, "0");
    await using watcher = createFileWatcher({ pollIntervalMs: 0 });
    let changes = 0;
    let barrierChanges = 0;
    using _watch = watcher.watch(path, await fingerprintFile(path), () => changes++);
    using _barrier = watcher.watch(barrier, await fingerprintFile(barrier), () => barrierChanges++);
    await writeFile(path, "one");
    await writeFile(barrier, "1");
    await waitFor(() => barrierChanges === 1, { message: "the barrier file's change" });
    expect(changes).toBe(0);
    await writeFile(path, "two");
    await waitFor(() => changes === 1, { message: "the rewrite" });
  });

  it("reports an atomic replace by rename and a Kubernetes Secret volume's ..data symlink swap", async () => {
    const plain = join(dir, "ca.crt");
    await writeFile(plain, "ca-1");
    // A Secret volume: key -> ..data/key, ..data -> ..v1; kubelet swaps ..data to a new directory.
    await mkdir(join(dir, "..v1"));
    await writeFile(join(dir, "..v1", "token"), "token-1");
    await symlink("..v1", join(dir, "..data"));
    await symlink(join("..data", "token"), join(dir, "token"));
    await using watcher = createFileWatcher({ pollIntervalMs: 0 });
    const changed: string[] = [];
    using _a = watcher.watch(plain, await fingerprintFile(plain), () => changed.push("ca"));
    using _b = watcher.watch(join(dir, "token"), await fingerprintFile(join(dir, "token")), () =>
      changed.push("token"),
    );
    await writeFile(join(dir, "ca.tmp"), "ca-2");
    await rename(join(dir, "ca.tmp"), plain);
    await waitFor(() => changed.includes("ca"), { message: "the renamed CA" });
    await mkdir(join(dir, "..v2"));
    await writeFile(join(dir, "..v2", "token"), "token-2");
    await symlink("..v2", join(dir, "..data_tmp"));
    await rename(join(dir, "..data_tmp"), join(dir, "..data"));
    await waitFor(() => changed.includes("token"), { message: "the swapped token" });
    expect(changed.filter((c) => c === "token")).toHaveLength(1);
  });

  it("reports a file appearing and disappearing", async () => {
    const path = join(dir, "key.pem");
    await using watcher = createFileWatcher({ pollIntervalMs: 0 });
    let changes = 0;
    const seen = await fingerprintFile(path);
    expect(seen).toBe("missing:ENOENT");
    using _watch = watcher.watch(path, seen, () => changes++);
    await writeFile(path, "key");
    await waitFor(() => changes === 1, { message: "the file to appear" });
    await unlink(path);
    await waitFor(() => changes === 2, { message: "the file to vanish" });
  });

  it("reports a change that happened between the caller's read and the watch", async () => {
    const path = join(dir, "kubeconfig");
    await writeFile(path, "new content");
    await using watcher = createFileWatcher({ pollIntervalMs: 0 });
    let changes = 0;
    using _watch = watcher.watch(path, fingerprintContent("old content"), () => changes++);
    await waitFor(() => changes === 1, { message: "the change before the watch" });
  });

  it("stops calling a listener once its watch is disposed", async () => {
    const path = join(dir, "a");
    await writeFile(path, "1");
    await using watcher = createFileWatcher({ pollIntervalMs: 0 });
    let disposedCalls = 0;
    let keptCalls = 0;
    const disposed = watcher.watch(path, await fingerprintFile(path), () => disposedCalls++);
    using _kept = watcher.watch(path, await fingerprintFile(path), () => keptCalls++);
    disposed[Symbol.dispose]();
    await writeFile(path, "2");
    await waitFor(() => keptCalls === 1, { message: "the remaining listener" });
    expect(disposedCalls).toBe(0);
    expect(watcher.size()).toBe(1);
  });

  it("falls back to polling for a file whose directory does not exist yet", async () => {
    const later = join(dir, "later", "cert.pem");
    await using watcher = createFileWatcher({ pollIntervalMs: 50 });
    let changes = 0;
    using _watch = watcher.watch(later, await fingerprintFile(later), () => changes++);
    await mkdir(join(dir, "later"));
    await writeFile(later, "cert");
    await waitFor(() => changes === 1, { message: "the polled file" });
    await writeFile(later, "cert-2");
    await waitFor(() => changes === 2, { message: "the second change" });
  });
});
