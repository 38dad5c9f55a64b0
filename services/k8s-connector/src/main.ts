import { readKubernetesConnectorConfig } from "./config.js";
import { createKubernetesConnectorService, createLogger } from "./service.js";

// Environment → config → start → wait for a signal → stop. Everything else lives in service.ts.
const logger = createLogger(process.env["FEDVIEW_LOG_LEVEL"] ?? "info");
try {
  const config = readKubernetesConnectorConfig();
  await using service = createKubernetesConnectorService(config, {
    logger: logger.child({}, { level: config.logLevel }),
  });
  await service.start();
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  logger.info({ signal }, "stopping the k8s connector");
} catch (error) {
  logger.fatal({ err: error }, "the k8s connector cannot run; fix the cause named above and start it again");
  process.exitCode = 1;
}
