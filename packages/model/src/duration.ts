/**
 * Duration strings in the Go / Kubernetes style (`90s`, `10m`, `1h30m`, `1.5h`), used by the
 * fedview-specific `spec.syncOptions.staleDataExpiry` of a RemoteClusterConfiguration.
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const TERM_PATTERN = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/**
 * Parses a duration such as `10m` or `1h30m` into milliseconds (rounded to whole milliseconds).
 * Units: `ms`, `s`, `m`, `h`. Returns null for anything else, including signs and spaces.
 */
export function parseDuration(text: string): number | null {
  if (!DURATION_PATTERN.test(text)) return null;
  let total = 0;
  for (const match of text.matchAll(TERM_PATTERN)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ""] ?? 0);
  }
  return Math.round(total);
}
