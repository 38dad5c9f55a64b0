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
