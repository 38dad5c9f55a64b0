import { readConfigServiceConfig } from "./config.js";
import { createLogger } from "./logger.js";
import { createConfigService } from "./service.js";

// Environment → config → start → wait for a signal → stop. Everything else lives in service.ts.
const logger = createLogger({ level: process.env["FEDVIEW_LOG_LEVEL"] ?? "info" });
try {
  const config = readConfigServiceConfig();
  await using service = createConfigService(config, { logger: logger.child({}, { level: config.logLevel }) });
  await service.start();
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  logger.info({ signal }, "stopping the config service");
} catch (error) {
  logger.fatal({ err: error }, "the config service cannot run; fix the cause named above and start it again");
  process.exitCode = 1;
}
