/**
 * `fedview apply|get|delete` talk to RCCs through one of two clients: the config service's RPC
 * (`fedview.v1.config.*`) in NATS mode, or config-service's store on the local datastore in-process
 * (calicoctl's way). Both validate every RCC before writing anything.
 */
import {
  type BusConnection,
  configSubject,
  connectBus,
  InvalidRequestError,
  NotFoundError,
  requestService,
} from "@fedview/bus";
import type { ApplyResponse, ListResponse, RccObject } from "@fedview/config-service";
import { type CommandContext, type GlobalOptions, natsUrl } from "./context.js";
import { BackendError, InvalidRccInputError, RccMissingError } from "./errors.js";
import { natsConnectOptions } from "./nats-backend.js";

/** What the RCC commands need. */
export interface RccClient extends AsyncDisposable {
  apply(documents: string): Promise<ApplyResponse>;
  get(name: string): Promise<RccObject>;
  list(): Promise<ListResponse>;
  delete(name: string): Promise<RccObject>;
}

const TIMEOUT_MS = 30_000;

async function natsRccClient(url: string, ctx: CommandContext): Promise<RccClient> {
  let nc: BusConnection;
  try {
    nc = await connectBus(natsConnectOptions(url, ctx.io.env));
  } catch (err) {
    throw new BackendError((err as Error).message, { cause: err });
  }
  const call = async <T>(endpoint: "apply" | "get" | "list" | "delete", body: unknown, name?: string): Promise<T> => {
    try {
      return await requestService<T>(nc, configSubject(endpoint), body, { timeoutMs: TIMEOUT_MS });
    } catch (err) {
      if (err instanceof InvalidRequestError && err.issues.length > 0)
        throw new InvalidRccInputError(err.issues, { cause: err });
      if (err instanceof NotFoundError && name !== undefined) throw new RccMissingError(name, { cause: err });
      throw new BackendError(`config service: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    apply: (documents) => call("apply", { documents }),
    get: (name) => call("get", { name }, name),
    list: () => call("list", {}),
    delete: (name) => call("delete", { name }, name),
    [Symbol.asyncDispose]: () => nc[Symbol.asyncDispose](),
  };
}

/** The RCC client of the chosen mode. */
export async function openRccClient(globals: GlobalOptions, ctx: CommandContext): Promise<RccClient> {
  const url = natsUrl(globals, ctx.io);
  if (url !== undefined) {
    ctx.debug(`NATS mode: RCCs through the config service on ${url}`);
    return natsRccClient(url, ctx);
  }
  ctx.debug("in-process mode: RCCs in the local datastore");
  // Loaded on demand, like the in-process pipeline (the datastore clients are slow to import).
  const { localRccClient } = await import("./rcc-local.js");
  return localRccClient(globals, ctx);
}
