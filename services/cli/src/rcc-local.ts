/** The in-process RCC client: config-service's store on the local datastore (calicoctl's way). */
import {
  type ApplyItemResult,
  parseRccDocuments,
  RccNotFoundError,
  type RccObject,
  REDACTED,
} from "@fedview/config-service";
import { CALICO_API_VERSION, validateRemoteClusterConfiguration } from "@fedview/model";
import { loadDatastoreConfig } from "./calico-config.js";
import type { CommandContext, GlobalOptions } from "./context.js";
import { BackendError, CliError, InvalidRccInputError, RccMissingError } from "./errors.js";
import { localConnection, openLocalStores } from "./local-datastore.js";
import type { RccClient } from "./rcc-client.js";

/** Secret spec fields `get` shows as `[REDACTED]`, as the config service does. */
const SECRET_SPEC_FIELDS = ["etcdPassword", "k8sAPIToken"];

function redacted(object: RccObject): RccObject {
  const spec = { ...object.spec };
  for (const field of SECRET_SPEC_FIELDS)
    if (typeof spec[field] === "string" && spec[field] !== "") spec[field] = REDACTED;
  return { ...object, spec };
}

function storedShape(rcc: {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
  spec: Record<string, unknown>;
}): RccObject {
  const { name, labels, annotations, resourceVersion } = rcc.metadata as unknown as RccObject["metadata"];
  return {
    apiVersion: rcc.apiVersion,
    kind: rcc.kind,
    metadata: {
      name,
      ...(labels === undefined ? {} : { labels }),
      ...(annotations === undefined ? {} : { annotations }),
      ...(resourceVersion === undefined ? {} : { resourceVersion }),
    },
    spec: rcc.spec,
  };
}

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
        const parsed = parseRccDocuments(documents);
        const issues = [...parsed.issues];
        const valid: { path: string; object: RccObject }[] = [];
        for (const { path, value } of parsed.objects) {
          const result = validateRemoteClusterConfiguration(value);
          const at = (p: string) => (path === "" ? p : p === "" ? path : `${path}.${p}`);
          if (!result.success) issues.push(...result.issues.map((i) => ({ path: at(i.path), message: i.message })));
          else valid.push({ path, object: storedShape(result.data as never) });
        }
        const names = new Map<string, string>();
        for (const { path, object } of valid) {
          const first = names.get(object.metadata.name);
          if (first !== undefined) {
            issues.push({
              path: path === "" ? "metadata.name" : `${path}.metadata.name`,
              message: `"${object.metadata.name}" is also defined at ${first || "the top"}; each RemoteClusterConfiguration may appear once`,
            });
          }
          names.set(object.metadata.name, path);
        }
        if (issues.length > 0) throw new InvalidRccInputError(issues);
        const items: ApplyItemResult[] = [];
        for (const { object } of valid) {
          try {
            const current = await rccs.get(object.metadata.name);
            if (current === undefined) {
              const stored = await rccs.create(object);
              items.push({ name: stored.name, result: "created", resourceVersion: stored.resourceVersion });
            } else if (JSON.stringify(current.object.spec) === JSON.stringify(object.spec)) {
              items.push({ name: current.name, result: "unchanged", resourceVersion: current.resourceVersion });
            } else {
              const stored = await rccs.update(object);
              items.push({ name: stored.name, result: "updated", resourceVersion: stored.resourceVersion });
            }
          } catch (err) {
            const e = err as Error;
            items.push({
              name: object.metadata.name,
              result: "failed",
              error: { name: e.name, code: 500, message: e.message },
            });
          }
        }
        const count = (r: ApplyItemResult["result"]) => items.filter((i) => i.result === r).length;
        return {
          items,
          created: count("created"),
          updated: count("updated"),
          unchanged: count("unchanged"),
          failed: count("failed"),
        };
      }),
    get: (name) =>
      guard(
        `get RemoteClusterConfiguration ${name}`,
        async () => {
          const stored = await rccs.get(name);
          if (stored === undefined) throw new RccMissingError(name);
          return redacted(stored.object);
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
            .map((i) => redacted(i.object))
            .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)),
        };
      }),
    delete: (name) =>
      guard(`delete RemoteClusterConfiguration ${name}`, async () => (await rccs.delete(name)).object, name),
    [Symbol.asyncDispose]: () => stores[Symbol.asyncDispose](),
  };
}
