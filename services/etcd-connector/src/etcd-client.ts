import { Etcd3, type IOptions } from "etcd3";
import { EtcdConfigError } from "./errors.js";
import type { EtcdConnectionMaterial } from "./types.js";

type Policy = NonNullable<NonNullable<IOptions["faultHandling"]>["global"]>;

/**
 * A fault-handling policy that runs the call once. etcd3's defaults retry and open a circuit
 * breaker whose "circuit breaker is open" would replace the real error in the status; `ClusterSync`
 * already retries with backoff and rebuilds the client.
 */
const runOnce = {
  onSuccess: () => ({ dispose() {} }),
  onFailure: () => ({ dispose() {} }),
  execute: (fn: (context: { signal: AbortSignal }) => unknown, signal?: AbortSignal) =>
    Promise.resolve().then(() => fn({ signal: signal ?? new AbortController().signal })),
} as unknown as Policy;

/** gRPC's own default for one received message; a listing page must not depend on fitting it. */
export const GRPC_DEFAULT_MAX_RECEIVE_BYTES = 4 * 1024 * 1024;
/** Default bound of one message received from etcd (a range page, a watch response). */
export const DEFAULT_MAX_RECEIVE_BYTES = 64 * 1024 * 1024;

/**
 * Checks the material and turns it into etcd3 options. `maxReceiveBytes` bounds one message
 * received from etcd (gRPC's default is 4 MiB). Throws `EtcdConfigError`.
 */
export function etcdClientOptions(
  material: EtcdConnectionMaterial,
  requestTimeoutMs: number,
  maxReceiveBytes: number = DEFAULT_MAX_RECEIVE_BYTES,
): IOptions {
  if (!Number.isInteger(maxReceiveBytes) || maxReceiveBytes < 1024) {
    throw new EtcdConfigError(
      `the etcd receive limit must be an integer of at least 1024 bytes, got ${maxReceiveBytes} (maxReceiveBytes, FEDVIEW_ETCD_MAX_RECEIVE_BYTES)`,
    );
  }
  const endpoints = material.endpoints.map((e) => e.trim()).filter((e) => e !== "");
  if (endpoints.length === 0) throw new EtcdConfigError("no etcd endpoints configured");
  for (const e of endpoints) {
    let url: URL;
    try {
      url = new URL(e);
    } catch (err) {
      throw new EtcdConfigError(`etcd endpoint ${JSON.stringify(e)} is not a URL`, { cause: err });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new EtcdConfigError(`etcd endpoint ${JSON.stringify(e)} must use http:// or https://`);
    }
  }
  if ((material.cert === undefined) !== (material.key === undefined)) {
    throw new EtcdConfigError("an etcd client certificate needs its key and a key needs its certificate");
  }
  if ((material.username === undefined) !== (material.password === undefined)) {
    throw new EtcdConfigError("an etcd username needs a password and a password needs a username");
  }
  const secure = endpoints.some((e) => e.startsWith("https:"));
  if (!secure && (material.cert !== undefined || material.caCert !== undefined)) {
    throw new EtcdConfigError("TLS material is configured but no etcd endpoint uses https://");
  }
  const options: IOptions = {
    hosts: endpoints,
    dialTimeout: requestTimeoutMs,
    faultHandling: { host: () => runOnce, global: runOnce },
    grpcOptions: {
      // Detect a peer that stopped answering on an idle watch stream (etcd allows pings every 5 s).
      "grpc.keepalive_time_ms": 10_000,
      "grpc.keepalive_timeout_ms": 5_000,
      "grpc.keepalive_permit_without_calls": 1,
      // A page or watch response over gRPC's 4 MiB default would otherwise fail the listing for
      // good; the listing also shrinks a page that is still refused (see etcd-source.ts).
      "grpc.max_receive_message_length": maxReceiveBytes,
    },
  };
  if (material.caCert !== undefined || material.cert !== undefined) {
    if (material.caCert === undefined) {
      throw new EtcdConfigError("an etcd client certificate needs the CA certificate of the server");
    }
    options.credentials = {
      rootCertificate: Buffer.from(material.caCert),
      ...(material.cert !== undefined ? { certChain: Buffer.from(material.cert) } : {}),
      ...(material.key !== undefined ? { privateKey: Buffer.from(material.key) } : {}),
    };
  }
  if (material.username !== undefined && material.password !== undefined) {
    options.auth = { username: material.username, password: material.password };
  }
  return options;
}

/** Builds an etcd3 client; no I/O happens until the first request. */
export function createEtcdClient(
  material: EtcdConnectionMaterial,
  requestTimeoutMs: number,
  maxReceiveBytes: number = DEFAULT_MAX_RECEIVE_BYTES,
): Etcd3 {
  const options = etcdClientOptions(material, requestTimeoutMs, maxReceiveBytes);
  try {
    return new Etcd3(options);
  } catch (err) {
    // grpc-js validates PEM material when building the channel credentials.
    throw new EtcdConfigError(
      `the etcd TLS material cannot be used: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

// OpenSSL and grpc-js texts for TLS failures, said the way an operator thinks about them.
const TLS_HINTS: ReadonlyArray<[RegExp, (m: RegExpMatchArray) => string]> = [
  [
    /alert (bad certificate|certificate required|unknown ca|certificate unknown|handshake failure)/i,
    (m) => `TLS handshake failed: the server rejected the client certificate (TLS alert: ${m[1]})`,
  ],
  [
    /unable to verify the first certificate|unable to get local issuer certificate|self[- ]signed certificate|certificate signed by unknown authority/i,
    (m) => `TLS handshake failed: the server certificate is not signed by the configured CA (${m[0]})`,
  ],
  [/certificate has expired|certificate is not yet valid/i, (m) => `TLS handshake failed: ${m[0]}`],
  [
    /Hostname\/IP does not match certificate's altnames[^.]*/i,
    (m) => `TLS handshake failed: the server certificate does not name this endpoint (${m[0]})`,
  ],
  [/wrong version number|packet length too long/i, () => "TLS handshake failed: the endpoint does not speak TLS"],
];

/**
 * A person-readable text for an etcd/gRPC error: the gRPC status name and the detail, TLS failures
 * named plainly, without grpc-js's resolution notes and timestamps. Never includes credentials
 * (etcd3 errors do not carry them).
 */
export function describeEtcdError(err: unknown): string {
  const raw = err instanceof Error ? err.message : String(err);
  const cleaned = raw
    .replace(/\s*Resolution note:.*$/s, "")
    .replace(/\s*\(\d{4}-\d{2}-\d{2}T[\d:.]+Z\)/g, "")
    .replace(/Last error: Error: /, "Last error: ")
    .replace(/^\d+ ([A-Z_]+): /, "$1: ")
    .replace(/\.\s*$/, "")
    .trim();
  for (const [pattern, say] of TLS_HINTS) {
    const m = cleaned.match(pattern);
    if (m) {
      const code = cleaned.match(/^([A-Z_]+): /)?.[1];
      return code ? `${code}: ${say(m)}` : say(m);
    }
  }
  return cleaned;
}
