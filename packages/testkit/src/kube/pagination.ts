import { badRequest, KubeStatusError } from "./status.js";

/**
 * List continuation tokens in kube-apiserver's format: unpadded base64url of
 * `{"v":"meta.k8s.io/v1","rv":<snapshot version>,"start":"<next key>"}`. `rv` -1 marks the
 * "inconsistent" token handed out with a 410, which continues from the latest version instead.
 */
export interface ContinueToken {
  rv: number;
  /** The first key (below the resource prefix) the next page starts at. */
  start: string;
}

const TOKEN_VERSION = "meta.k8s.io/v1";

export function encodeContinue(token: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: TOKEN_VERSION, rv: token.rv, start: token.start }), "utf8").toString(
    "base64url",
  );
}

export function decodeContinue(raw: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"));
  } catch (err) {
    throw new KubeStatusError(badRequest("invalid continue token: not base64-encoded JSON"), { cause: err });
  }
  const p = parsed as { v?: unknown; rv?: unknown; start?: unknown } | null;
  if (p === null || typeof p !== "object" || p.v !== TOKEN_VERSION) {
    throw new KubeStatusError(badRequest(`continue key is not valid: server does not recognize this encoded key`));
  }
  if (typeof p.rv !== "number" || !Number.isInteger(p.rv) || p.rv === 0 || p.rv < -1) {
    throw new KubeStatusError(badRequest("continue key is not valid: incorrect encoded start resourceVersion"));
  }
  if (typeof p.start !== "string" || p.start === "") {
    throw new KubeStatusError(badRequest("continue key is not valid: encoded start key empty"));
  }
  return { rv: p.rv, start: p.start };
}
