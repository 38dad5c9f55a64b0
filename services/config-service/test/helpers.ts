import type { BusConnection, BusSubscription } from "@fedview/bus";
import type { Logger } from "pino";
import { createLogger } from "../src/logger.js";

/** Every payload and header published on the bus (core subscription to `>`), as text, for leak checks. */
export interface BusTap extends AsyncDisposable {
  readonly texts: string[];
}

/** Subscribes to every subject and keeps each message's payload and headers as text. */
export function tapBus(nc: BusConnection): BusTap {
  const texts: string[] = [];
  const sub = nc.subscribe(">", {
    callback: (_err, msg) => {
      texts.push(`${msg.subject} ${msg.headers?.toString() ?? ""} ${Buffer.from(msg.data).toString("utf8")}`);
    },
  });
  return {
    texts,
    async [Symbol.asyncDispose]() {
      sub.unsubscribe();
    },
  };
}

/** Drains a subscription into an array in the background. */
export function collect<T>(subscription: BusSubscription<T>): T[] {
  const seen: T[] = [];
  void (async () => {
    for await (const item of subscription) seen.push(item);
  })();
  return seen;
}

/** A logger whose every line is kept, so tests can read what was logged. */
export function capturingLogger(level = "debug"): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({
    level,
    destination: {
      write(line: string) {
        lines.push(line);
      },
    },
  });
  return { logger, lines };
}
