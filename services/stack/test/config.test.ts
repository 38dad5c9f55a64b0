import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readStackCommandLine, StackConfigError } from "../src/index.js";

describe("readStackCommandLine", () => {
  it.each([
    ["nothing: the demo in ./.fedview", [], {}, { stateDir: resolve(".fedview"), demo: true, logLevel: "info" }],
    ["--no-demo", ["--no-demo"], {}, { stateDir: resolve(".fedview"), demo: false, logLevel: "info" }],
    ["--state-dir", ["--state-dir", "/srv/fv"], {}, { stateDir: "/srv/fv", demo: true, logLevel: "info" }],
    [
      "a relative dir, where npm was run",
      ["--state-dir", "fv"],
      { INIT_CWD: "/home/me/work" },
      { stateDir: "/home/me/work/fv", demo: true, logLevel: "info" },
    ],
    [
      "FEDVIEW_STATE_DIR",
      [],
      { FEDVIEW_STATE_DIR: "/var/lib/fv" },
      { stateDir: "/var/lib/fv", demo: true, logLevel: "info" },
    ],
    [
      "--state-dir over FEDVIEW_STATE_DIR",
      ["--state-dir=a"],
      { FEDVIEW_STATE_DIR: "b" },
      { stateDir: resolve("a"), demo: true, logLevel: "info" },
    ],
    [
      "timeout and log level",
      [],
      { FEDVIEW_SYNC_TIMEOUT_MS: "5000", FEDVIEW_LOG_LEVEL: "debug" },
      { stateDir: resolve(".fedview"), demo: true, logLevel: "debug", syncTimeoutMs: 5000 },
    ],
  ])("%s", (_name, argv, env, options) => {
    expect(readStackCommandLine(argv, env)).toEqual({ help: false, options });
  });

  it("asks for help with -h and --help", () => {
    expect(readStackCommandLine(["-h"], {}).help).toBe(true);
    expect(readStackCommandLine(["--help"], {}).help).toBe(true);
  });

  it.each([
    [
      "an unknown flag, with the usage",
      ["--demo-please"],
      {},
      /Unknown option '--demo-please'[\s\S]*Usage: fedview up/,
    ],
    ["a positional", ["up"], {}, /Unexpected argument 'up'/],
    ["a bad timeout", [], { FEDVIEW_SYNC_TIMEOUT_MS: "soon" }, /FEDVIEW_SYNC_TIMEOUT_MS: expected milliseconds/],
    ["a bad log level", [], { FEDVIEW_LOG_LEVEL: "loud" }, /FEDVIEW_LOG_LEVEL/],
  ])("refuses %s", (_name, argv, env, message) => {
    expect(() => readStackCommandLine(argv, env)).toThrow(StackConfigError);
    expect(() => readStackCommandLine(argv, env)).toThrow(message);
  });
});
