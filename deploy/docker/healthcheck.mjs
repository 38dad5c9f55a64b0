// Docker HEALTHCHECK of the fedview image: asks the service's own /readyz (the same endpoint as the
// Kubernetes readinessProbe) and exits 0 when it answers 200. Node has fetch; the slim base image
// has neither curl nor wget.
//
// The port is FEDVIEW_METRICS_PORT when set, else the service's default below (a test checks that
// these equal the defaults in each service's config.ts). With the endpoint turned off ("off") there
// is nothing to ask, so the check passes.

/** Default metrics/probe port of each service, as its config.ts sets it. */
const DEFAULT_METRICS_PORTS = {
  "query-service": 9464,
  "config-service": 9465,
  "etcd-connector": 9466,
  "k8s-connector": 9467,
};

const service = process.env.SERVICE ?? "";
const configured = (process.env.FEDVIEW_METRICS_PORT ?? "").trim();

function fail(message) {
  process.stderr.write(`healthcheck: ${message}\n`);
  process.exit(1);
}

if (configured.toLowerCase() === "off") {
  process.stdout.write("healthcheck: the metrics endpoint is off; nothing to check\n");
  process.exit(0);
}
const port = configured === "" ? DEFAULT_METRICS_PORTS[service] : Number(configured);
if (port === undefined) fail(`no default port for SERVICE="${service}"; set FEDVIEW_METRICS_PORT`);
if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`FEDVIEW_METRICS_PORT="${configured}" is not a port`);

const url = `http://127.0.0.1:${port}/readyz`;
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(4000) });
  const body = (await response.text()).trim();
  if (response.status !== 200) fail(`${url} answered ${response.status}: ${body}`);
  process.stdout.write(`healthcheck: ${url} ready\n`);
} catch (error) {
  fail(`${url}: ${error instanceof Error ? error.message : String(error)}`);
}
