/**
 * Churn on a remote etcd: paced individual puts (each its own revision, as independent writers make
 * them) of endpoints whose `probe` label flips between "on" and "off", so that every update is a real
 * label change and starts or stops a match of `probe == "on"`.
 */
import type { Etcd3 } from "etcd3";
import { etcdEntry, fleetEndpoint } from "./fleet.js";

/** The stored value of endpoint `n` with `probe` set, precomputed so the generator stays cheap. */
export function probeValues(endpoints: number): { keys: Buffer[]; on: Buffer[]; off: Buffer[] } {
  const keys: Buffer[] = [];
  const on: Buffer[] = [];
  const off: Buffer[] = [];
  for (let n = 0; n < endpoints; n++) {
    const wep = fleetEndpoint(n);
    const labels = wep.metadata.labels ?? {};
    const { key, value } = etcdEntry({ ...wep, metadata: { ...wep.metadata, labels: { ...labels, probe: "on" } } });
    keys.push(Buffer.from(key));
    on.push(Buffer.from(value));
    off.push(
      Buffer.from(etcdEntry({ ...wep, metadata: { ...wep.metadata, labels: { ...labels, probe: "off" } } }).value),
    );
  }
  return { keys, on, off };
}

/** Which pod number a watch event's endpoint is (`…/ns-X.pod-N/eth0`). */
export function podNumber(displayName: string): number {
  const match = /\.pod-(\d+)\//.exec(displayName);
  return match ? Number(match[1]) : -1;
}

/**
 * Endpoint `n` with `probe` set and its `seq`-th update written into its interface name
 * (`cali` + 11 hex digits), as stored in etcd: every put is then told apart from the others of the
 * same key wherever the endpoint shows (a bus event's resource, a watch event's `name`).
 */
export function markedProbeValue(n: number, on: boolean, seq: number): Buffer {
  const wep = fleetEndpoint(n);
  const labels = { ...(wep.metadata.labels ?? {}), probe: on ? "on" : "off" };
  const interfaceName = `cali${seq.toString(16).padStart(11, "0")}`;
  return Buffer.from(
    etcdEntry({ ...wep, metadata: { ...wep.metadata, labels }, spec: { ...wep.spec, interfaceName } }).value,
  );
}

/** The update number `markedProbeValue` wrote into an interface name, or -1. */
export function markedSeq(interfaceName: string | undefined): number {
  const match = /^cali([0-9a-f]{11})$/.exec(interfaceName ?? "");
  return match ? Number.parseInt(match[1]!, 16) : -1;
}

export interface ChurnOptions {
  client: Etcd3;
  values: { keys: Buffer[]; on: Buffer[]; off: Buffer[] };
  /** Updates per second. */
  rate: number;
  durationMs: number;
  /**
   * Most puts per etcd transaction (default 100). A transaction is one revision with several events,
   * as etcd batches concurrent writers; this machine's etcd takes only ~500 single-put requests/s
   * from one Node client, far below the rates to generate.
   */
  batch?: number;
  /** Transactions awaiting etcd's answer at most; beyond it the generator falls behind (and says so). */
  maxInFlight?: number;
  /** Called as each put is sent: endpoint number, whether probe is now on, send time. */
  onSend?: (n: number, on: boolean, at: number) => void;
  /**
   * Builds the value of each put instead of the precomputed `values.on`/`values.off` (e.g. to mark
   * every put so that its arrival can be told apart from an earlier put of the same key).
   */
  encode?: (n: number, on: boolean, at: number) => Buffer;
}

export interface ChurnResult {
  sent: number;
  failed: number;
  /** Achieved rate over the run, per second. */
  achieved: number;
}

/**
 * Round-robin churn over every endpoint at `rate` per second for `durationMs`: every few milliseconds,
 * the puts due since the last tick go out in transactions of at most `batch`.
 */
export async function churn(options: ChurnOptions, state: { next: number; on: boolean[] }): Promise<ChurnResult> {
  const { client, values, rate, durationMs } = options;
  const batch = Math.max(1, options.batch ?? 100);
  const maxInFlight = options.maxInFlight ?? 16;
  const count = values.keys.length;
  let inFlight = 0;
  let sent = 0;
  let failed = 0;
  let wake: (() => void) | undefined;
  const t0 = performance.now();
  const settle = (puts: number) => () => {
    inFlight--;
    return puts;
  };
  const fail = (puts: number) => () => {
    failed += puts;
    inFlight--;
  };
  for (;;) {
    const elapsed = performance.now() - t0;
    if (elapsed >= durationMs) break;
    let due = Math.min(Math.floor((rate * elapsed) / 1000) - sent, batch * maxInFlight);
    if (due <= 0 || inFlight >= maxInFlight) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      continue;
    }
    while (due > 0 && inFlight < maxInFlight) {
      const size = Math.min(batch, due);
      const ops: { request_put: { key: Buffer; value: Buffer } }[] = [];
      const at = performance.now();
      for (let i = 0; i < size; i++) {
        const n = state.next;
        state.next = (state.next + 1) % count;
        const on = !state.on[n];
        state.on[n] = on;
        const value = options.encode?.(n, on, at) ?? (on ? values.on[n]! : values.off[n]!);
        ops.push({ request_put: { key: values.keys[n]!, value } });
        options.onSend?.(n, on, at);
      }
      inFlight++;
      sent += size;
      due -= size;
      client.kv
        .txn({ success: ops })
        .then(settle(size), fail(size))
        .finally(() => wake?.());
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
  return { sent, failed, achieved: (sent * 1000) / (performance.now() - t0) };
}
