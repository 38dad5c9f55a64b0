/**
 * `fedview apply|get|delete` talk to RCCs through one of two clients: the config service's RPC
 * (`fedview.v1.config.*`) in NATS mode, or config-service's store on the local datastore in-process
 * (calicoctl's way). Both validate every RCC before writing anything.
 *
 * In NATS mode every `apply` body is sealed: an RCC may carry `etcdPassword`, a token, or a password
 * typed into an endpoint URL, so the documents never cross the bus in clear. The CLI asks the
 * `fedview-config` service for its curve public key (`sealingPublicKey` in its `$SRV.INFO` metadata),
 * seals `{documents}` to it with a key pair made for this one request, and sends `{sealed}`. A service
 * that advertises no key, or replicas that advertise different keys, are refused before anything is
 * sent. `get`, `list` and `delete` send only a name, so there is nothing in them to seal.
 */
import {
  type BusConnection,
  CONFIG_SERVICE_NAME,
  configSubject,
  connectBus,
  createSealingKeyPair,
  InvalidRequestError,
  isSealingPublicKey,
  NotFoundError,
  requestService,
  type SealedSecrets,
  sealSecrets,
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
/** How long to wait for the config service's `$SRV.INFO` answers, and the quiet gap that ends them. */
const INFO_TIMEOUT_MS = 5_000;
const INFO_STALL_MS = 250;
/** Room left in a NATS message for the JSON around the sealed box and the headers. */
const ENVELOPE_BYTES = 1024;

/**
 * The curve public key the running config service opens sealed applies with. Every instance answers
 * `$SRV.INFO.fedview-config`; they must all advertise the same key, since any of them may take the apply.
 */
export async function configSealingKey(nc: BusConnection, url: string): Promise<string> {
  const subject = `$SRV.INFO.${CONFIG_SERVICE_NAME}`;
  const keys = new Map<string, string[]>();
  let answers = 0;
  try {
    const replies = await nc.requestMany(subject, undefined, {
      strategy: "stall",
      stall: INFO_STALL_MS,
      maxWait: INFO_TIMEOUT_MS,
    });
    for await (const reply of replies) {
      if (reply.data.length === 0) continue;
      const info = reply.json<{ id?: unknown; metadata?: Record<string, unknown> }>();
      answers += 1;
      const key = info.metadata?.["sealingPublicKey"];
      const id = typeof info.id === "string" ? info.id : `#${answers}`;
      const label = typeof key === "string" ? key : "";
      keys.set(label, [...(keys.get(label) ?? []), id]);
    }
  } catch (err) {
    if (!isNoResponders(err)) {
      throw new BackendError(
        `config service: cannot read its sealing key on ${subject}: ${(err as Error).message}; start config-service, or run without --nats/FEDVIEW_NATS_URL to apply to the local datastore directly`,
        { cause: err },
      );
    }
  }
  if (answers === 0) {
    throw new BackendError(
      `no fedview config service answers on ${url} (no service answers on ${subject}); start config-service, or run without --nats/FEDVIEW_NATS_URL to apply to the local datastore directly`,
    );
  }
  const unsealed = keys.get("");
  if (unsealed !== undefined) {
    throw new BackendError(
      `the fedview config service (instance ${unsealed.join(", ")}) advertises no sealingPublicKey in its service metadata, so fedview apply cannot seal the documents, which may carry passwords or tokens; nothing was sent. Upgrade config-service to a version that accepts sealed applies`,
    );
  }
  const advertised = [...keys.keys()];
  const bad = advertised.find((key) => !isSealingPublicKey(key));
  if (bad !== undefined) {
    throw new BackendError(
      `the fedview config service advertises sealingPublicKey "${bad}", which is not a curve (xkey) public key (X…); nothing was sent. Check its FEDVIEW_CONFIG_XKEY_SEED`,
    );
  }
  if (advertised.length > 1) {
    throw new BackendError(
      `the fedview config service's ${answers} instances advertise ${advertised.length} different sealing keys, so an apply sealed to one could reach another that cannot open it; nothing was sent. Give every config-service replica the same FEDVIEW_CONFIG_XKEY_SEED`,
    );
  }
  return advertised[0] as string;
}

function isNoResponders(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) if (e.constructor.name === "NoRespondersError") return true;
  return false;
}

/** `{documents}` sealed to the config service, checked against the server's message size limit. */
function sealedApplyBody(nc: BusConnection, documents: string, recipient: string): { sealed: SealedSecrets } {
  const sealed = sealSecrets({ documents }, createSealingKeyPair(), recipient);
  const max = nc.info?.max_payload;
  const size = sealed.data.length + sealed.sender.length + ENVELOPE_BYTES;
  if (max !== undefined && size > max) {
    throw new BackendError(
      `the input is too large: sealed, it takes ${size} bytes, which exceeds the NATS server's max_payload of ${max} bytes; split it into several files and apply each`,
    );
  }
  return { sealed };
}

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
    apply: async (documents) => call("apply", sealedApplyBody(nc, documents, await configSealingKey(nc, url))),
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
