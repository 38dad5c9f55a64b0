import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import type { KubeUserInfo } from "./types.js";

/** Every authenticated user is in this group, as in Kubernetes. */
export const AUTHENTICATED_GROUP = "system:authenticated";
/** Members bypass authorization (the `cluster-admin` superuser group). */
export const SUPERUSER_GROUP = "system:masters";

/** The outcome of authentication: a user, or a reason for a 401. */
export type AuthenticationResult = { user: KubeUserInfo } | { user: undefined; reason: string };

function withAuthenticated(groups: readonly string[]): string[] {
  return [...new Set([...groups, AUTHENTICATED_GROUP])];
}

function asList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/**
 * Authenticates a request like kube-apiserver's union authenticator: a client certificate signed by the
 * server's CA (CN = user, O = groups), else a bearer token. A bad certificate or unknown token is a 401
 * even when anonymous access is on; only a request with no credentials at all may become anonymous.
 */
export class Authenticator {
  readonly #tokens = new Map<string, KubeUserInfo>();
  anonymous: boolean;

  constructor(anonymous: boolean) {
    this.anonymous = anonymous;
  }

  /** Registers a bearer token for a user; returns the user as the server will see it. */
  addToken(token: string, name: string, groups: readonly string[]): KubeUserInfo {
    const user = { name, groups: withAuthenticated(groups) };
    this.#tokens.set(token, user);
    return user;
  }

  /** Stops accepting a token (as when a ServiceAccount token is revoked). */
  removeToken(token: string): boolean {
    return this.#tokens.delete(token);
  }

  authenticate(req: IncomingMessage): AuthenticationResult {
    const failures: string[] = [];
    const socket = req.socket as TLSSocket;
    const cert = typeof socket.getPeerCertificate === "function" ? socket.getPeerCertificate() : undefined;
    if (cert !== undefined && cert !== null && Object.keys(cert).length > 0) {
      const names = asList(cert.subject?.CN);
      const name = names[0];
      if (socket.authorized && name !== undefined && name !== "") {
        return { user: { name, groups: withAuthenticated(asList(cert.subject?.O)) } };
      }
      failures.push(`x509: ${socket.authorizationError ?? "certificate without a common name"}`);
    }
    const header = req.headers.authorization;
    const bearer = header === undefined ? undefined : /^bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (bearer !== undefined) {
      const user = this.#tokens.get(bearer);
      if (user !== undefined) return { user: { name: user.name, groups: [...user.groups] } };
      failures.push("invalid bearer token");
    }
    if (failures.length > 0) return { user: undefined, reason: failures.join("; ") };
    if (this.anonymous) return { user: { name: "system:anonymous", groups: ["system:unauthenticated"] } };
    return { user: undefined, reason: "no credentials" };
  }
}
