/**
 * The services' log: one JSON-lines file in the state dir (the terminal is for the stack's own progress
 * and summary), secrets redacted under every name the services use for them.
 */
import { type DestinationStream, type Logger, pino } from "pino";

const SECRET_FIELDS = [
  "etcdPassword",
  "etcdKey",
  "k8sAPIToken",
  "k8sKey",
  "kubeconfig",
  "password",
  "token",
  "key",
  "secrets",
  "sealed",
  "seed",
  "xkeySeed",
];
const REDACT_PATHS = SECRET_FIELDS.flatMap((f) => [f, `*.${f}`, `*.*.${f}`, `*.*.*.${f}`]);

/** A logger writing to `file` (created, appended to); `close()` flushes it. */
export interface StackLogger {
  readonly logger: Logger;
  close(): void;
}

export function createStackLogger(file: string, level: string): StackLogger {
  const destination = pino.destination({ dest: file, mkdir: true, append: true, sync: true });
  const logger = pino(
    { level, base: { stack: process.pid }, redact: { paths: REDACT_PATHS, censor: "[REDACTED]" } },
    destination as DestinationStream,
  );
  return {
    logger,
    close() {
      destination.flushSync();
      destination.end();
    },
  };
}
