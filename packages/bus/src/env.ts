/**
 * The `FEDVIEW_NATS_*` environment every service reads to reach the bus, in one place so the services
 * document and validate the same variables.
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `FEDVIEW_NATS_URL` | `nats://127.0.0.1:4222` | NATS server URL(s), comma-separated |
 * | `FEDVIEW_NATS_USER`, `FEDVIEW_NATS_PASSWORD` | | user/password authentication |
 * | `FEDVIEW_NATS_TOKEN` | | token authentication |
 * | `FEDVIEW_NATS_NKEY_SEED_FILE` | | nkey seed file (re-read on reconnect) |
 * | `FEDVIEW_NATS_CREDS_FILE` | | `.creds` file (re-read on reconnect) |
 * | `FEDVIEW_NATS_TLS_CA_FILE`, `…_CERT_FILE`, `…_KEY_FILE` | | TLS CA and client certificate |
 */
import { z } from "zod";
import { toIssues } from "./codecs.js";
import { type BusConnectOptions, busConnectOptionsSchema } from "./connect.js";
import { BusConfigError } from "./errors.js";

/** An optional variable, trimmed; blank counts as unset. */
export const envOptional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

/** A yes/no variable (`1|true|yes|on`, `0|false|no|off`), `fallback` when unset or blank. */
export function envBoolean(fallback: boolean) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      if (/^(1|true|yes|on)$/i.test(v.trim())) return true;
      if (/^(0|false|no|off)$/i.test(v.trim())) return false;
      ctx.addIssue({ code: "custom", message: `expected true or false, got "${v}"` });
      return z.NEVER;
    });
}

/** An integer variable at least `min`, `fallback` when unset or blank. */
export function envInteger(fallback: number, min: number) {
  return z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return fallback;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) {
        ctx.addIssue({ code: "custom", message: `expected an integer ≥ ${min}, got "${v}"` });
        return z.NEVER;
      }
      return n;
    });
}

const optional = envOptional;

/** The `FEDVIEW_NATS_*` variables; other keys of the environment are ignored. */
export const natsEnvSchema = z.object({
  FEDVIEW_NATS_URL: z.string().default("nats://127.0.0.1:4222"),
  FEDVIEW_NATS_USER: optional,
  // A password is taken as given: spaces may be part of it.
  FEDVIEW_NATS_PASSWORD: z.string().optional(),
  FEDVIEW_NATS_TOKEN: optional,
  FEDVIEW_NATS_NKEY_SEED_FILE: optional,
  FEDVIEW_NATS_CREDS_FILE: optional,
  FEDVIEW_NATS_TLS_CA_FILE: optional,
  FEDVIEW_NATS_TLS_CERT_FILE: optional,
  FEDVIEW_NATS_TLS_KEY_FILE: optional,
});

/** What a service adds to the connection settings read from the environment. */
export interface BusConnectEnvOptions {
  /** Client name shown in the server's monitoring pages, e.g. `fedview-query-service`. */
  name: string;
  reconnect?: BusConnectOptions["reconnect"];
}

/**
 * Reads the `FEDVIEW_NATS_*` variables of `env` into connection options for `connectBus`. Throws
 * `BusConfigError` ("invalid NATS settings: …") when the combination is invalid (two authentication
 * methods, a certificate without its key); secret values never appear in the error.
 */
export function busConnectOptionsFromEnv(
  env: Record<string, string | undefined>,
  options: BusConnectEnvOptions,
): BusConnectOptions {
  const e = natsEnvSchema.parse(env);
  const bus: BusConnectOptions = {
    servers: e.FEDVIEW_NATS_URL.split(",")
      .map((s) => s.trim())
      .filter((s) => s !== ""),
    name: options.name,
    ...(options.reconnect !== undefined ? { reconnect: options.reconnect } : {}),
  };
  if (e.FEDVIEW_NATS_USER !== undefined) bus.user = e.FEDVIEW_NATS_USER;
  if (e.FEDVIEW_NATS_PASSWORD !== undefined) bus.password = e.FEDVIEW_NATS_PASSWORD;
  if (e.FEDVIEW_NATS_TOKEN !== undefined) bus.token = e.FEDVIEW_NATS_TOKEN;
  if (e.FEDVIEW_NATS_NKEY_SEED_FILE !== undefined) bus.nkeySeedFile = e.FEDVIEW_NATS_NKEY_SEED_FILE;
  if (e.FEDVIEW_NATS_CREDS_FILE !== undefined) bus.credentialsFile = e.FEDVIEW_NATS_CREDS_FILE;
  const tls: NonNullable<BusConnectOptions["tls"]> = {};
  if (e.FEDVIEW_NATS_TLS_CA_FILE !== undefined) tls.caFile = e.FEDVIEW_NATS_TLS_CA_FILE;
  if (e.FEDVIEW_NATS_TLS_CERT_FILE !== undefined) tls.certFile = e.FEDVIEW_NATS_TLS_CERT_FILE;
  if (e.FEDVIEW_NATS_TLS_KEY_FILE !== undefined) tls.keyFile = e.FEDVIEW_NATS_TLS_KEY_FILE;
  if (Object.keys(tls).length > 0) bus.tls = tls;
  // The bus checks the combination (one auth method, certificate with key).
  const checked = busConnectOptionsSchema.safeParse(bus);
  if (!checked.success) {
    const issues = toIssues(checked.error);
    throw new BusConfigError(
      `invalid NATS settings: ${issues.map((i) => `${i.path || "(root)"}: ${i.message}`).join("; ")}`,
      issues,
    );
  }
  return bus;
}
