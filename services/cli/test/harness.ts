/** Runs `runCli` in-process with captured streams, against a backend over a hand-fed view. */
import { FederatedView } from "@fedview/query-service";
import { type BackendOpener, createViewBackend, runCli } from "../src/index.js";
import { eastResources, eventsFor, LOCAL_CLUSTER, localResources, statusOf } from "./fixtures.js";

/** A stream that keeps what is written. */
export class Capture {
  text = "";
  isTTY = false;
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The fixture federation: local and `east` InSync. */
export function fixtureView(): FederatedView {
  const view = new FederatedView();
  for (const event of [...eventsFor(LOCAL_CLUSTER, localResources()), ...eventsFor("east", eastResources())]) {
    view.applyResourceEvent(event);
  }
  view.applyClusterStatus(statusOf(LOCAL_CLUSTER, "InSync"));
  view.applyClusterStatus(statusOf("east", "InSync"));
  return view;
}

/** Runs the CLI against `view` (default: the fixture). */
export async function runOn(
  argv: string[],
  view: FederatedView = fixtureView(),
  invokedAs: "fedview" | "calicoq" = "calicoq",
): Promise<CliRun> {
  const stdout = new Capture();
  const stderr = new Capture();
  const openBackend: BackendOpener = async () => createViewBackend(view);
  const code = await runCli(argv, {
    invokedAs,
    stdout,
    stderr,
    env: {},
    cwd: "/",
    signal: new AbortController().signal,
    openBackend,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
