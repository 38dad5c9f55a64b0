/** The resource names `get` and `delete` accept, as calicoctl spells them. */
import { CliUsageError } from "./errors.js";

const RCC_NAMES = new Set([
  "remoteclusterconfiguration",
  "remoteclusterconfigurations",
  "rcc",
  "rccs",
  "remoteclusterconfiguration.projectcalico.org",
  "remoteclusterconfigurations.projectcalico.org",
]);

/** Accepts only RemoteClusterConfiguration spellings (fedview manages no other kind). */
export function checkRccKind(kind: string): void {
  if (!RCC_NAMES.has(kind.toLowerCase())) {
    throw new CliUsageError(
      `Resource type "${kind}" is not supported: fedview manages remoteclusterconfigurations (or rcc) only`,
    );
  }
}
