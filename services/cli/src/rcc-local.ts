/** The in-process RCC client: config-service's store on the local datastore (calicoctl's way). */
import { InvalidRequestError } from "@fedview/bus";
import { applyRccs, RccNotFoundError, redactRcc } from "@fedview/config-service";
import { CALICO_API_VERSION } from "@fedview/model";
import { pino } from "pino";
import { loadDatastoreConfig } from "./calico-config.js";
import type { CommandContext, GlobalOptions } from "./context.js";
import { BackendError, CliError, InvalidRccInputError, RccMissingError } from "./errors.js";
import { localConnection, openLocalStores } from "./local-datastore.js";
import type { RccClient } from "./rcc-client.js";

/** The config service's apply logs through this; the CLI reports the results itself. */
const SILENT = pino({ level: "silent" });

export async function localRccClient(globals: GlobalOptions, ctx: CommandContext): Promise<RccClient> {
  const datastore = await loadDatastoreConfig(globals.config, ctx.io.env, ctx.io.cwd);
  const stores = await openLocalStores(datastore, await localConnection(datastore));
  const { rccs } = stores;
  const guard = async <T>(what: string, work: () => Promise<T>, name?: string): Promise<T> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof RccNotFoundError && name !== undefined) throw new RccMissingError(name, { cause: err });
      if (err instanceof CliError) throw err;
      throw new BackendError(`${what}: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    apply: (documents) =>
      guard("apply", async () => {
        try {
          return await applyRccs({ store: rccs, logger: SILENT }, { documents });
        } catch (err) {
          if (err instanceof InvalidRequestError && err.issues.length > 0) throw new InvalidRccInputError(err.issues);
          throw err;
        }
      }),
    get: (name) =>
      guard(
        `get RemoteClusterConfiguration ${name}`,
        async () => {
          const stored = await rccs.get(name);
          if (stored === undefined) throw new RccMissingError(name);
          return redactRcc(stored.object);
        },
        name,
      ),
    list: () =>
      guard("list RemoteClusterConfigurations", async () => {
        const listing = await rccs.list();
        return {
          apiVersion: CALICO_API_VERSION,
          kind: "RemoteClusterConfigurationList" as const,
          metadata: { resourceVersion: listing.resourceVersion },
          items: listing.items
            .map((i) => redactRcc(i.object))
            .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)),
        };
      }),
    delete: (name) =>
      guard(`delete RemoteClusterConfiguration ${name}`, async () => redactRcc((await rccs.delete(name)).object), name),
    [Symbol.asyncDispose]: () => stores[Symbol.asyncDispose](),
  };
}
