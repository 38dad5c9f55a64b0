/**
 * What the stack prints once it is up: where everything is, how the demo is wired (and why the Secret
 * lives where it does), and the next commands to try, with real names from the demo.
 */
import { existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { DEMO_POLICY_EXAMPLES, EAST_CLUSTER, WEST_ACCESS_SECRET, WEST_CLUSTER } from "./demo-data.js";
import type { StackUrls, SyncReport } from "./types.js";
import { clusterLabel } from "./wait-sync.js";

/** What the summary is built from. */
export interface SummaryInput {
  stateDir: string;
  urls: StackUrls;
  /** The local datastore, described. */
  datastore: string;
  logFile: string;
  demo: boolean;
  /** With the demo: config-service's kubeconfig for the Secret store, and where cluster-east's TLS files are. */
  secretStoreKubeconfig?: string;
  eastTlsDir?: string;
  sync: SyncReport;
  /** Where the commands are typed; `npx fedview` resolves only inside the repository. */
  cwd: string;
}

/** The directory whose `node_modules/.bin` has `fedview`: the repository this stack runs from. */
export function fedviewCliRoot(from: string = import.meta.dirname): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "node_modules", ".bin", "fedview"))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

function inside(dir: string, root: string): boolean {
  const rel = relative(root, dir);
  return rel === "" || (!rel.startsWith("..") && !rel.startsWith("/"));
}

/** The summary, as lines. */
export function summaryLines(input: SummaryInput): string[] {
  const { urls } = input;
  const lines: string[] = [""];
  lines.push(
    input.sync.inSync
      ? "fedview is up: every cluster is InSync."
      : "fedview is up, but not every cluster is InSync (see above).",
  );
  lines.push(`  State      ${input.stateDir}  (starting again with this directory keeps the view)`);
  lines.push(`  NATS       ${urls.nats}  (monitoring ${urls.natsMonitor})`);
  if (urls.etcd !== undefined) lines.push(`  etcd       ${urls.etcd}  (the local datastore, embedded)`);
  else lines.push(`  Datastore  ${input.datastore}`);
  lines.push(`  Metrics    query-service   ${urls.metrics.queryService}/metrics`);
  lines.push(`             config-service  ${urls.metrics.configService}/metrics`);
  lines.push(`             etcd-connector  ${urls.metrics.etcdConnector}/metrics`);
  lines.push(`             k8s-connector   ${urls.metrics.k8sConnector}/metrics`);
  lines.push(`  Logs       ${input.logFile}`);

  if (input.demo && urls.demo !== undefined) {
    const tls = input.eastTlsDir === undefined ? "" : ` in ${input.eastTlsDir}`;
    lines.push("");
    lines.push("Demo federation:");
    const rows: [string, string][] = [
      [clusterLabel("_local"), "endpoints, tiers and policies in the local etcd"],
      [
        EAST_CLUSTER,
        `etcd over mutual TLS at ${urls.demo.eastEtcd}; its RCC names the CA, certificate and key files${tls}`,
      ],
      [
        WEST_CLUSTER,
        `Kubernetes API at ${urls.demo.westKubeApi}; its RCC names clusterAccessSecret ${WEST_ACCESS_SECRET.namespace}/${WEST_ACCESS_SECRET.name}`,
      ],
    ];
    const width = Math.max(...rows.map(([label]) => label.length));
    for (const [label, text] of rows) lines.push(`  ${label.padEnd(width)}  ${text}`);
    lines.push(
      "  Where that Secret lives: Calico reads a clusterAccessSecret from the local cluster's Kubernetes API,",
    );
    lines.push(
      "  even when the local datastore is etcd, and config-service does the same (KUBECONFIG next to ETCD_ENDPOINTS).",
    );
    lines.push(
      `  This demo has no local Kubernetes cluster, so a Kubernetes API test server at ${urls.demo.secretStore}`,
    );
    lines.push("  holds the Secret; config-service reads it as a ServiceAccount that may only get, list and watch");
    lines.push(`  Secrets in ${WEST_ACCESS_SECRET.namespace} (${input.secretStoreKubeconfig ?? "its kubeconfig"}).`);
  }

  lines.push("");
  lines.push("Try, in another terminal:");
  const cliRoot = fedviewCliRoot();
  if (cliRoot !== undefined && !inside(input.cwd, cliRoot)) lines.push(`  cd ${cliRoot}`);
  lines.push(`  export FEDVIEW_NATS_URL=${urls.nats}`);
  lines.push("  npx fedview status");
  lines.push('  npx fedview eval "all()"');
  if (input.demo) {
    for (const policy of DEMO_POLICY_EXAMPLES) lines.push(`  npx fedview policy ${policy}`);
    lines.push("  npx fedview eval \"app == 'checkout'\"");
  } else {
    lines.push(
      "  npx fedview policy <name>            (a GlobalNetworkPolicy; <namespace>/<name> for a NetworkPolicy)",
    );
    lines.push("  npx fedview apply -f rcc.yaml        (add a RemoteClusterConfiguration)");
  }
  lines.push("");
  lines.push(`Ctrl-C stops everything; the state stays in ${input.stateDir}.`);
  return lines;
}
