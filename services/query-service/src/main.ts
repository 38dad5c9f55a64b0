/** Entry point: environment → config → start → wait for SIGINT/SIGTERM → dispose → exit. */
import { pino } from "pino";
import { readQueryServiceConfig } from "./config.js";
import { createQueryService } from "./service.js";

const log = pino({ name: "fedview-query-service" });
try {
  const config = readQueryServiceConfig();
  log.level = config.logLevel;
  const service = createQueryService(config, { logger: log });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const s of ["SIGINT", "SIGTERM"] as const) process.once(s, () => resolve(s));
    service.start().catch((err: unknown) => {
      log.fatal({ err }, "query service failed to start");
      resolve("SIGTERM");
      process.exitCode = 1;
    });
  });
  log.info({ signal }, "stopping");
  await service[Symbol.asyncDispose]();
  process.exit();
} catch (err) {
  log.fatal({ err }, "query service failed");
  process.exit(1);
}
