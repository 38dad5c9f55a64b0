import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitFor } from "@fedview/testkit";
import { describe, expect, it } from "vitest";
import { runCli } from "../src/index.js";

function sink() {
  let text = "";
  return {
    stream: {
      write(chunk: string | Uint8Array) {
        text += chunk.toString();
        return true;
      },
    },
    text: () => text,
  };
}

describe("fedview up", () => {
  it("explains itself in --help", async () => {
    const out = sink();
    const code = await runCli(["up", "--help"], { stdout: out.stream as never, stderr: out.stream as never });
    expect(code).toBe(0);
    expect(out.text()).toContain("--no-demo");
    expect(out.text()).toContain("--state-dir <dir>");
    expect(out.text()).toContain("export FEDVIEW_NATS_URL=");
  });

  it("runs the stack until interrupted, then stops it and exits 0", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "fedview-up-"));
    const out = sink();
    const err = sink();
    const stop = new AbortController();
    try {
      const running = runCli(["up", "--no-demo", "--state-dir", stateDir], {
        stdout: out.stream as never,
        stderr: err.stream as never,
        signal: stop.signal,
        // No calicoctl variables: the stack runs its embedded etcd as the local datastore.
        env: { PATH: process.env.PATH ?? "" },
      });
      await waitFor(() => out.text().includes("fedview is up"), { timeout: 90_000, message: "the stack's summary" });
      expect(out.text()).toContain(stateDir);
      expect(out.text()).toMatch(/nats:\/\/127\.0\.0\.1:\d+/);
      stop.abort();
      expect(await running).toBe(0);
      expect(err.text()).toBe("");
    } finally {
      stop.abort();
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});
