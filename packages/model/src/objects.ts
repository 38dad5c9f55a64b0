/**
 * Small object helpers. Label keys come from remote clusters, and `__proto__` is a legal label key:
 * plain assignment would change the object's prototype instead of storing it, so define it instead.
 */

/** Stores `value` under `key` as an own, enumerable property, whatever the key. */
export function setOwn<T>(target: Record<string, T>, key: string, value: T): void {
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/** Copies every own enumerable entry of `source` onto `target` with `setOwn`. */
export function assignOwn<T>(target: Record<string, T>, source: Record<string, T> | undefined): Record<string, T> {
  if (source) for (const [key, value] of Object.entries(source)) setOwn(target, key, value);
  return target;
}

/** Whether `value` is a plain, non-array object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Whether `value` is a plain object whose every value is a string, with no own `__proto__` key
 * (`JSON.parse` makes one an own property; the schemas treat it apart, so hand-written fast paths
 * leave such maps to them).
 */
export function isPlainStringMap(value: unknown): value is Record<string, string> {
  if (!isRecord(value) || Object.hasOwn(value, "__proto__")) return false;
  for (const key in value) if (typeof value[key] !== "string") return false;
  return true;
}

/** Whether `value` is an array of strings. */
export function isStringArray(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (const item of value) if (typeof item !== "string") return false;
  return true;
}
