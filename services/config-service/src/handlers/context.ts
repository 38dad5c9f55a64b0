import {
  BusError,
  ConflictError,
  InternalError,
  InvalidRequestError,
  NotFoundError,
  type SealingKeyPair,
  UnavailableError,
} from "@fedview/bus";
import { isValidClusterName, type RemoteClusterValidationOptions, withoutUserInfo } from "@fedview/model";
import type { Logger } from "pino";
import { DatastoreError, RccConflictError, RccNotFoundError } from "../errors.js";
import { REDACTED } from "../logger.js";
import type { ConfigServiceMetrics } from "../metrics.js";
import type { RccObject, RccStore } from "../types.js";

/** What every config RPC handler works with. */
export interface HandlerContext {
  store: RccStore;
  logger: Logger;
  metrics: ConfigServiceMetrics;
  validation?: RemoteClusterValidationOptions;
  /** Opens `apply` requests sealed to this service. */
  sealingKey?: SealingKeyPair;
}

/** RCC spec fields that hold a secret in clear: shown as `[REDACTED]` by get, list and delete. */
export const REDACTED_SPEC_FIELDS = ["etcdPassword", "k8sAPIToken"] as const;

/** RCC spec fields holding endpoint URLs, where a `user:password@` may have been typed (and stored). */
const ENDPOINT_SPEC_FIELDS = ["etcdEndpoints", "k8sAPIEndpoint"] as const;

/**
 * A copy of the RCC whose secret fields read `[REDACTED]`, and whose endpoint URLs show `[REDACTED]@`
 * for any user info. Validation refuses such URLs, but an RCC written straight into the datastore (by
 * calicoctl or kubectl) can still hold one.
 */
export function redactRcc(rcc: RccObject): RccObject {
  const spec = { ...rcc.spec };
  for (const field of REDACTED_SPEC_FIELDS) {
    // Whatever its type: a password stored as a number is still a password.
    if (spec[field] !== undefined && spec[field] !== null && spec[field] !== "") spec[field] = REDACTED;
  }
  for (const field of ENDPOINT_SPEC_FIELDS) {
    const value = spec[field];
    if (typeof value === "string" && value.includes("@")) {
      spec[field] = value
        .split(",")
        .map((url) => withoutUserInfo(url.trim()))
        .join(",");
    }
  }
  return { ...rcc, spec };
}

/** Refuses a name that cannot be an RCC's before it reaches the datastore. */
export function checkName(name: string): void {
  if (!isValidClusterName(name)) {
    throw new InvalidRequestError(`"${name}" is not a RemoteClusterConfiguration name`, [
      {
        path: "name",
        message: 'use lower-case letters, digits and "-", starting and ending with a letter or digit',
      },
    ]);
  }
}

/** The bus error a caller should see for a store failure (404, 409, 503), keeping the cause. */
export function toBusError(error: unknown): BusError {
  if (error instanceof BusError) return error;
  if (error instanceof RccNotFoundError) return new NotFoundError(error.message, { cause: error });
  if (error instanceof RccConflictError) return new ConflictError(error.message, { cause: error });
  if (error instanceof DatastoreError) return new UnavailableError(error.message, { cause: error });
  return new InternalError(error instanceof Error ? error.message : String(error), { cause: error });
}

/** Runs a handler body, counting the request by endpoint and result code and translating store errors. */
export async function counted<T>(context: HandlerContext, endpoint: string, run: () => Promise<T>): Promise<T> {
  try {
    const result = await run();
    context.metrics.rpcRequests.inc({ endpoint, code: "200" });
    return result;
  } catch (error) {
    const busError = toBusError(error);
    context.metrics.rpcRequests.inc({ endpoint, code: String(busError.code) });
    throw busError;
  }
}
