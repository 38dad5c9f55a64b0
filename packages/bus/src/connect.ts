import { readFileSync } from "node:fs";
import type { Authenticator, NatsConnection, NodeConnectionOptions } from "@nats-io/transport-node";
import { connect, credsAuthenticator, nkeyAuthenticator } from "@nats-io/transport-node";
import { z } from "zod";
import { toIssues } from "./codecs.js";
import { BusConfigError, BusConnectionError } from "./errors.js";
import { inboxPrefixFor } from "./permissions.js";

/** TLS settings: PEM contents or file paths for the CA and the client certificate and key. */
export interface BusTlsOptions {
  caFile?: string;
  ca?: string;
  certFile?: string;
  cert?: string;
  keyFile?: string;
  key?: string;
  /** Start TLS before the NATS INFO exchange; the server must be configured with `handshake_first`. */
  handshakeFirst?: boolean;
}

/** How the client reconnects after losing its server. Services default to retrying forever. */
export interface ReconnectPolicy {
  /** Default true. */
  enabled?: boolean;
  /** Attempts per server before giving up; -1 (default) never gives up. */
  maxAttempts?: number;
  /** Milliseconds between attempts; default 2000. */
  waitMs?: number;
  /** Upper bound of random extra delay in milliseconds; default 100 (1000 for TLS). */
  jitterMs?: number;
  jitterTlsMs?: number;
  /** Keep retrying the very first connection too instead of failing fast; default false. */
  waitOnFirstConnect?: boolean;
}

/**
 * Everything `connectBus` needs, all of it from service config. At most one authentication method:
 * user/password, token, an nkey seed (or seed file), or a `.creds` JWT file (or its contents).
 * Seed and creds files are re-read on every (re)connect, so rotating them needs no restart.
 */
export interface BusConnectOptions {
  /** One URL or several (`nats://`, `tls://`), e.g. every node of a cluster. */
  servers: string | string[];
  /** Client name shown in the server's monitoring pages. */
  name?: string;
  user?: string;
  password?: string;
  token?: string;
  /** A user nkey seed (`SU…`). */
  nkeySeed?: string;
  nkeySeedFile?: string;
  /** Contents of a `.creds` file (user JWT and seed). */
  credentials?: string;
  credentialsFile?: string;
  tls?: BusTlsOptions;
  reconnect?: ReconnectPolicy;
  /** Milliseconds to wait for the handshake; default 20000. */
  connectTimeoutMs?: number;
  pingIntervalMs?: number;
  maxPingOut?: number;
  /**
   * Prefix of this client's reply subjects. Default: `inboxPrefixFor(user)` (`_INBOX.<user>`) when
   * logging in with a user name, so permissions can confine each user to its own replies (see
   * `servicePermissions`); `_INBOX` otherwise.
   */
  inboxPrefix?: string;
}

const positive = z.number().int().positive();

/** Zod schema of {@link BusConnectOptions}, for services validating their config. */
export const busConnectOptionsSchema: z.ZodType<BusConnectOptions> = z
  .object({
    servers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
    name: z.string().min(1).optional(),
    user: z.string().min(1).optional(),
    password: z.string().optional(),
    token: z.string().min(1).optional(),
    nkeySeed: z.string().min(1).optional(),
    nkeySeedFile: z.string().min(1).optional(),
    credentials: z.string().min(1).optional(),
    credentialsFile: z.string().min(1).optional(),
    tls: z
      .object({
        caFile: z.string().min(1).optional(),
        ca: z.string().min(1).optional(),
        certFile: z.string().min(1).optional(),
        cert: z.string().min(1).optional(),
        keyFile: z.string().min(1).optional(),
        key: z.string().min(1).optional(),
        handshakeFirst: z.boolean().optional(),
      })
      .optional(),
    reconnect: z
      .object({
        enabled: z.boolean().optional(),
        maxAttempts: z.number().int().min(-1).optional(),
        waitMs: z.number().int().nonnegative().optional(),
        jitterMs: z.number().int().nonnegative().optional(),
        jitterTlsMs: z.number().int().nonnegative().optional(),
        waitOnFirstConnect: z.boolean().optional(),
      })
      .optional(),
    connectTimeoutMs: positive.optional(),
    pingIntervalMs: positive.optional(),
    maxPingOut: positive.optional(),
    inboxPrefix: z.string().min(1).optional(),
  })
  .superRefine((o, ctx) => {
    const methods = [
      o.user !== undefined || o.password !== undefined ? "user/password" : undefined,
      o.token !== undefined ? "token" : undefined,
      o.nkeySeed !== undefined || o.nkeySeedFile !== undefined ? "nkey" : undefined,
      o.credentials !== undefined || o.credentialsFile !== undefined ? "credentials" : undefined,
    ].filter((m) => m !== undefined);
    if (methods.length > 1) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: `choose one authentication method, not ${methods.join(" and ")}`,
      });
    }
    if (o.password !== undefined && o.user === undefined) {
      ctx.addIssue({ code: "custom", path: ["user"], message: "is required with a password" });
    }
    for (const [a, b] of [
      ["nkeySeed", "nkeySeedFile"],
      ["credentials", "credentialsFile"],
    ] as const) {
      if (o[a] !== undefined && o[b] !== undefined) {
        ctx.addIssue({ code: "custom", path: [b], message: `set either ${a} or ${b}, not both` });
      }
    }
    for (const [a, b] of [
      ["ca", "caFile"],
      ["cert", "certFile"],
      ["key", "keyFile"],
    ] as const) {
      if (o.tls?.[a] !== undefined && o.tls[b] !== undefined) {
        ctx.addIssue({ code: "custom", path: ["tls", b], message: `set either tls.${a} or tls.${b}, not both` });
      }
    }
    const hasCert = o.tls?.cert !== undefined || o.tls?.certFile !== undefined;
    const hasKey = o.tls?.key !== undefined || o.tls?.keyFile !== undefined;
    if (hasCert !== hasKey) {
      ctx.addIssue({
        code: "custom",
        path: ["tls"],
        message: "a client certificate needs its key, and a key its certificate",
      });
    }
  });

const utf8 = new TextEncoder();

function authenticator(o: BusConnectOptions): Authenticator | undefined {
  // Functions, so the files are read again on each reconnect and a rotated secret is picked up.
  if (o.nkeySeed !== undefined) return nkeyAuthenticator(utf8.encode(o.nkeySeed.trim()));
  if (o.nkeySeedFile !== undefined) {
    const file = o.nkeySeedFile;
    return nkeyAuthenticator(() => utf8.encode(readFileSync(file, "utf8").trim()));
  }
  if (o.credentials !== undefined) return credsAuthenticator(utf8.encode(o.credentials));
  if (o.credentialsFile !== undefined) {
    const file = o.credentialsFile;
    return credsAuthenticator(() => readFileSync(file));
  }
  return undefined;
}

/** Translates bus options into the NATS client's connection options (exported for inspection in tests). */
export function toNatsConnectionOptions(options: BusConnectOptions): NodeConnectionOptions {
  const parsed = busConnectOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const issues = toIssues(parsed.error);
    throw new BusConfigError(
      `invalid bus connection options: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`,
      issues,
    );
  }
  const o = parsed.data;
  const reconnect = o.reconnect ?? {};
  const nats: NodeConnectionOptions = {
    servers: o.servers,
    reconnect: reconnect.enabled ?? true,
    maxReconnectAttempts: reconnect.maxAttempts ?? -1,
    waitOnFirstConnect: reconnect.waitOnFirstConnect ?? false,
    // Otherwise every request (each JetStream publish is one) builds two Errors up front only to
    // capture stacks, a tenth of a connector's CPU at 20k events/s; our errors name the subject.
    noAsyncTraces: true,
  };
  if (o.name !== undefined) nats.name = o.name;
  if (o.user !== undefined) nats.user = o.user;
  if (o.password !== undefined) nats.pass = o.password;
  if (o.token !== undefined) nats.token = o.token;
  const auth = authenticator(o);
  if (auth !== undefined) nats.authenticator = auth;
  if (o.tls !== undefined) nats.tls = { ...o.tls };
  if (reconnect.waitMs !== undefined) nats.reconnectTimeWait = reconnect.waitMs;
  if (reconnect.jitterMs !== undefined) nats.reconnectJitter = reconnect.jitterMs;
  if (reconnect.jitterTlsMs !== undefined) nats.reconnectJitterTLS = reconnect.jitterTlsMs;
  if (o.connectTimeoutMs !== undefined) nats.timeout = o.connectTimeoutMs;
  if (o.pingIntervalMs !== undefined) nats.pingInterval = o.pingIntervalMs;
  if (o.maxPingOut !== undefined) nats.maxPingOut = o.maxPingOut;
  if (o.inboxPrefix !== undefined) nats.inboxPrefix = o.inboxPrefix;
  else if (o.user !== undefined) nats.inboxPrefix = inboxPrefixFor(o.user);
  return nats;
}

/** A NATS connection that drains itself when disposed (`await using nc = await connectBus(…)`). */
export type BusConnection = NatsConnection & AsyncDisposable;

/**
 * Connects to NATS with the given options. Throws {@link BusConfigError} for inconsistent options and
 * {@link BusConnectionError} (with the client's error as `cause`) when the server refuses or is unreachable.
 * Disposing the connection drains it (pending publishes are sent), falling back to close.
 */
export async function connectBus(options: BusConnectOptions): Promise<BusConnection> {
  const nats = toNatsConnectionOptions(options);
  try {
    const nc = await connect(nats);
    return Object.assign(nc, {
      async [Symbol.asyncDispose]() {
        if (nc.isClosed()) return;
        try {
          await nc.drain();
        } catch {
          await nc.close();
        }
      },
    });
  } catch (err) {
    const servers = Array.isArray(options.servers) ? options.servers.join(", ") : options.servers;
    const reason = err instanceof Error ? err.message : String(err);
    throw new BusConnectionError(`cannot connect to NATS at ${servers}: ${reason}`, { cause: err });
  }
}
