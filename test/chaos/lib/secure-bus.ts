/**
 * NATS as production runs it: TLS with client certificates, one user per fedview role with the
 * least-privilege permissions `@fedview/bus` derives, and the topology set up once by an operator
 * user (services run with `FEDVIEW_ENSURE_STREAM=false` and may not create or change streams).
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type BusConnection,
  type BusConnectOptions,
  connectBus,
  ensureBusTopology,
  SERVICE_ROLES,
  type ServiceRole,
  servicePermissions,
} from "@fedview/bus";
import { type NatsServer, type NatsUser, startNats } from "@fedview/testkit";

/** The operator: unrestricted, used only to set the topology up and to inspect the bus. */
export const ADMIN = "admin" as const;
export type BusUser = ServiceRole | typeof ADMIN;

/** Lease TTL of the chaos bus: a killed connector's clusters move on within it. */
export const LEASE_TTL_MS = 2000;

export interface SecureBus extends AsyncDisposable {
  nats: NatsServer;
  /** Every node's client URL, comma-separated (as `FEDVIEW_NATS_URL` takes them). */
  url: string;
  /** The user name of a role (`fv-<role>`). */
  userOf(role: BusUser): string;
  /** `FEDVIEW_NATS_*` variables of a service running as `role`. */
  env(role: ServiceRole): Record<string, string>;
  /** Bus options of a client logging in as `role`. */
  options(role: BusUser): BusConnectOptions;
  connect(role: BusUser): Promise<BusConnection>;
  /** Permission violations nats-server logged since start, every node. */
  violations(): Promise<string[]>;
}

export interface SecureBusOptions {
  /** Nodes; 3 gives a route-connected cluster with replicated streams. Default 1. */
  cluster?: number;
  /** Keep the JetStream store in this directory (see `startNats({ dir })`). */
  dir?: string;
  /** Extra nats-server configuration (e.g. a short `write_deadline`). */
  extraConfig?: string;
}

export async function startSecureBus(options: SecureBusOptions = {}): Promise<SecureBus> {
  const size = options.cluster ?? 1;
  const passwords = new Map<BusUser, string>();
  const userOf = (role: BusUser) => `fv-${role}`;
  const roles: BusUser[] = [ADMIN, ...SERVICE_ROLES];
  const users: NatsUser[] = roles.map((role) => {
    const password = randomBytes(12).toString("hex");
    passwords.set(role, password);
    return role === ADMIN
      ? { user: userOf(role), password }
      : { user: userOf(role), password, permissions: servicePermissions(role, { user: userOf(role) }) };
  });
  const nats = await startNats({
    jetstream: true,
    cluster: size,
    tls: { verifyClients: true },
    users,
    ...(options.dir === undefined ? {} : { dir: options.dir }),
    ...(options.extraConfig === undefined ? {} : { extraConfig: options.extraConfig }),
  });
  const tls = nats.tls!;
  const url = nats.urls.join(",");
  const optionsOf = (role: BusUser): BusConnectOptions => ({
    servers: nats.urls,
    name: `chaos-${role}`,
    user: userOf(role),
    password: passwords.get(role)!,
    tls: { caFile: tls.caFile, certFile: tls.client.certFile, keyFile: tls.client.keyFile },
    reconnect: { waitMs: 250, jitterMs: 100, jitterTlsMs: 100 },
  });
  try {
    await using admin = await connectBus(optionsOf(ADMIN));
    await ensureBusTopology(admin, { replicas: size >= 3 ? 3 : 1, leaseTtlMs: LEASE_TTL_MS });
  } catch (err) {
    await nats[Symbol.asyncDispose]();
    throw err;
  }
  return {
    nats,
    url,
    userOf,
    env: (role) => ({
      FEDVIEW_NATS_URL: url,
      FEDVIEW_NATS_USER: userOf(role),
      FEDVIEW_NATS_PASSWORD: passwords.get(role)!,
      FEDVIEW_NATS_TLS_CA_FILE: tls.caFile,
      FEDVIEW_NATS_TLS_CERT_FILE: tls.client.certFile,
      FEDVIEW_NATS_TLS_KEY_FILE: tls.client.keyFile,
      FEDVIEW_ENSURE_STREAM: "false",
    }),
    options: optionsOf,
    connect: (role) => connectBus(optionsOf(role)),
    async violations() {
      const logs = await Promise.all(
        nats.nodes.map((n) => readFile(join(nats.dir, `${n.name}.log`), "utf8").catch(() => "")),
      );
      return logs.flatMap((text) => text.split("\n").filter((line) => /Violation/.test(line)));
    },
    [Symbol.asyncDispose]: () => nats[Symbol.asyncDispose](),
  };
}
