/** Reading a compose file the way `docker compose` does, as far as fedview's file needs. */

/**
 * Interpolates `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}` and `$$` with
 * `vars` (unset names take their default, as compose does when the variable is not exported).
 */
export function interpolate(text: string, vars: Record<string, string | undefined> = {}): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g,
    (whole, name: string | undefined, op: string | undefined, arg: string | undefined) => {
      if (whole === "$$") return "$";
      const value = vars[name!];
      const unset = value === undefined || (op?.startsWith(":") === true && value === "");
      if (op === undefined) return value ?? "";
      if (op.endsWith("-")) return unset ? (arg ?? "") : value!;
      if (unset) throw new Error(`compose would stop: ${name} ${arg}`);
      return value!;
    },
  );
}

/** A compose `environment` (map or `KEY=value` list) as a map, interpolated. */
export function environmentOf(
  environment: unknown,
  vars: Record<string, string | undefined> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(environment)) {
    for (const entry of environment) {
      const text = String(entry);
      const eq = text.indexOf("=");
      if (eq > 0) out[text.slice(0, eq)] = interpolate(text.slice(eq + 1), vars);
    }
  } else if (typeof environment === "object" && environment !== null) {
    for (const [key, value] of Object.entries(environment)) out[key] = interpolate(String(value ?? ""), vars);
  }
  return out;
}

/** `"9464:9464"`, `"127.0.0.1:9464:9464/tcp"` or the long form → host and container ports. */
export function parsePort(entry: unknown): { host?: number; container: number } {
  if (typeof entry === "object" && entry !== null) {
    const long = entry as { target?: unknown; published?: unknown };
    return {
      container: Number(long.target),
      ...(long.published !== undefined ? { host: Number(long.published) } : {}),
    };
  }
  const parts = String(entry)
    .replace(/\/(tcp|udp)$/, "")
    .split(":");
  const container = Number(parts.at(-1));
  return parts.length >= 2 ? { host: Number(parts.at(-2)), container } : { container };
}
