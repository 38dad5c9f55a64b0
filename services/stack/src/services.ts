/**
 * The fedview services, run in this process as libraries. Each gets its configuration through its own
 * `read…Config(env)` — the path its `main.ts` takes — from an environment built here, never from the
 * caller's `process.env` (whose `FEDVIEW_*` variables may point a CLI elsewhere).
 */
import { type ConfigService, createConfigService, readConfigServiceConfig } from "@fedview/config-service";
import {
  createEtcdConnectorService,
  type EtcdConnectorService,
  readEtcdConnectorConfig,
} from "@fedview/etcd-connector";
import {
  createKubernetesConnectorService,
  type KubernetesConnectorService,
  readKubernetesConnectorConfig,
} from "@fedview/k8s-connector";
import { createQueryService, type QueryService, readQueryServiceConfig } from "@fedview/query-service";
import type { Logger } from "pino";
import type { StackPorts } from "./types.js";

/** The curve (xkey) keys the stack keeps in its state dir. */
export interface StackKeys {
  /** The connectors' seed (`SX…`): opens sealed connection secrets. */
  connectorSeed: string;
  connectorPublicKey: string;
  /** config-service's seed: kept stable so a restart does not republish every connection config. */
  configSeed: string;
  configPublicKey: string;
}

/** What every service needs to know about the stack. */
export interface ServiceSettings {
  natsUrl: string;
  ports: StackPorts;
  keys: StackKeys;
  logLevel: string;
  logger: Logger;
}

function common(s: ServiceSettings, metricsPort: number): Record<string, string> {
  return {
    FEDVIEW_NATS_URL: s.natsUrl,
    FEDVIEW_METRICS_HOST: "127.0.0.1",
    FEDVIEW_METRICS_PORT: String(metricsPort),
    FEDVIEW_LOG_LEVEL: s.logLevel,
  };
}

/**
 * config-service over the local datastore (`datastoreEnv`: calicoctl's variables for it): every RCC's
 * connection config and the local cluster's (`_local`), and the `fedview apply|get|delete` RPC.
 */
export function createStackConfigService(s: ServiceSettings, datastoreEnv: Record<string, string>): ConfigService {
  const config = readConfigServiceConfig({
    ...datastoreEnv,
    ...common(s, s.ports.configMetrics),
    FEDVIEW_CONNECTOR_XKEY_PUBLIC: s.keys.connectorPublicKey,
    FEDVIEW_CONFIG_XKEY_SEED: s.keys.configSeed,
    // The local cluster is published from the same settings config-service reads RCCs with.
    FEDVIEW_FEDERATE_LOCAL: "true",
  });
  return createConfigService(config, { logger: s.logger.child({ service: "config-service" }) });
}

/** The etcd connector: every etcdv3 cluster, `_local` included when the local datastore is etcd. */
export function createStackEtcdConnector(s: ServiceSettings): EtcdConnectorService {
  const config = readEtcdConnectorConfig({
    ...common(s, s.ports.etcdConnectorMetrics),
    FEDVIEW_CONNECTOR_XKEY_SEED: s.keys.connectorSeed,
    FEDVIEW_CONFIG_XKEY_PUBLIC: s.keys.configPublicKey,
  });
  return createEtcdConnectorService(config, { logger: s.logger.child({ service: "etcd-connector" }) });
}

/** The query service: the merged view, answering `fedview.v1.query.*`. */
export function createStackQueryService(s: ServiceSettings): QueryService {
  const config = readQueryServiceConfig(common(s, s.ports.queryMetrics));
  return createQueryService(config, { logger: s.logger.child({ service: "query-service" }) });
}

/** The Kubernetes connector: every kubernetes cluster, `_local` included when the local datastore is Kubernetes. */
export function createStackKubernetesConnector(s: ServiceSettings): KubernetesConnectorService {
  const config = readKubernetesConnectorConfig({
    ...common(s, s.ports.k8sConnectorMetrics),
    FEDVIEW_CONNECTOR_XKEY_SEED: s.keys.connectorSeed,
    FEDVIEW_CONFIG_XKEY_PUBLIC: s.keys.configPublicKey,
  });
  return createKubernetesConnectorService(config, { logger: s.logger.child({ service: "k8s-connector" }) });
}
