import { readStackCommandLine, STACK_USAGE } from "./config.js";
import { runStack } from "./stack.js";

// Command line → options → run until SIGINT/SIGTERM → stop everything. A second signal gives up waiting.
const stopping = new AbortController();
const onSignal = () => {
  if (stopping.signal.aborted) process.exit(130);
  stopping.abort();
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
try {
  const { help, options } = readStackCommandLine(process.argv.slice(2));
  if (help) process.stdout.write(STACK_USAGE);
  else await runStack({ ...options, stdout: process.stdout, signal: stopping.signal });
} catch (error) {
  process.stderr.write(`fedview up: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
// Everything is stopped; do not wait out timers a server's stop leaves behind (testkit's kill grace period).
process.exit();
