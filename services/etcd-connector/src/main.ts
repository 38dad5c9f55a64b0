import { readEtcdConnectorConfig } from "./config.js";
import { createEtcdConnectorService, createLogger } from "./service.js";

// Environment → config → start → wait for a signal → stop. Everything else lives in service.ts.
const logger = createLogger(process.env["FEDVIEW_LOG_LEVEL"] ?? "info");
// etcd3 throws from inside a gRPC stream handler when etcd answers for a watch it already dropped;
// that is harmless, so it must not take the process down. Anything else still does.
process.on("unhandledRejection", (reason) => {
  if (reason instanceof Error && reason.message.includes("report this error at https://github.com/microsoft/etcd3")) {
    logger.warn({ err: reason.message }, "ignored an internal etcd3 client error");
    return;
  }
  logger.fatal({ err: reason }, "unhandled rejection");
  process.exit(1);
});
try {
  const config = readEtcdConnectorConfig();
  await using service = createEtcdConnectorService(config, { logger: logger.child({}, { level: config.logLevel }) });
  await service.start();
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  logger.info({ signal }, "stopping the etcd connector");
} catch (error) {
  logger.fatal({ err: error }, "the etcd connector cannot run; fix the cause named above and start it again");
  process.exitCode = 1;
}
