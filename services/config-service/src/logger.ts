import { type DestinationStream, type Logger, pino } from "pino";

/** The censor written in place of a secret, in logs and in `get`/`list` output. */
export const REDACTED = "[REDACTED]";

/** Field names whose values are secrets wherever they appear. */
export const SECRET_FIELD_NAMES = [
  "etcdPassword",
  "k8sAPIToken",
  "etcdKey",
  "k8sKey",
  "password",
  "token",
  "secrets",
  "sealed",
] as const;

// The service logs names and fields, not objects; these paths are the net under that rule.
const REDACT_PATHS = SECRET_FIELD_NAMES.flatMap((field) => [field, `*.${field}`, `*.*.${field}`, `*.*.*.${field}`]);

export interface LoggerOptions {
  /** pino level; default `info`. */
  level?: string;
  /** Where lines go; default stdout. Tests pass a stream to read every line. */
  destination?: DestinationStream;
}

/** A pino JSON logger with secrets redacted. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      name: "config-service",
      level: options.level ?? "info",
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      base: { service: "fedview-config" },
    },
    options.destination,
  );
}
