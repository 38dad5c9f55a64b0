import { randomBytes } from "node:crypto";

let counter = 0;

/**
 * A name unique to this test run: lower-case letters and digits only, so it is valid as an RCC name,
 * a NATS subject token, an etcd key segment and a Kubernetes object name.
 */
export function uniqueName(prefix = "t"): string {
  counter++;
  return `${prefix}${process.pid.toString(36)}${counter.toString(36)}${randomBytes(3).toString("hex")}`;
}
