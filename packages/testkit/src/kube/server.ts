import { randomBytes, randomUUID } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { Socket } from "node:net";
import { join } from "node:path";
import { type CertificateAuthority, type CertificatePair, createCertificateAuthority } from "../certs.js";
import { TestServerError } from "../errors.js";
import { AUTHENTICATED_GROUP, Authenticator, SUPERUSER_GROUP } from "./auth.js";
import { generateNameSuffix, type HandlerContext, handleResourceRequest, type RequestBody } from "./handlers.js";
import { buildKubeconfig, type KubeconfigCredentials } from "./kubeconfig.js";
import { Authorizer } from "./rbac.js";
import {
  CALICO_RESOURCES,
  CORE_RESOURCES,
  coreVersionsDocument,
  groupDocumentFor,
  groupListDocument,
  type RegisterResourceOptions,
  type ResourceDefinition,
  ResourceRegistry,
  resourceListDocument,
} from "./registry.js";
import { parseRequestInfo } from "./request-info.js";
import { compileSelectors } from "./selectors.js";
import {
  forbidden,
  forbiddenPath,
  injectedFault,
  internalError,
  type KubeStatus,
  KubeStatusError,
  pageNotFound,
  requestEntityTooLarge,
  unauthorized,
} from "./status.js";
import { cloneJson, ObjectStore } from "./store.js";
import type { KubeObject, KubeUserInfo, PolicyRule, ResourceRef } from "./types.js";
import { type WatchInfo, WatchStream } from "./watch.js";

/** Options of `startKubeApiServer`. Durations are in milliseconds so tests can make them short. */
export interface StartKubeApiServerOptions {
  /** Bearer token of the built-in `admin` superuser (group `system:masters`); default random. */
  adminToken?: string;
  /** Treat requests without credentials as `system:anonymous` instead of 401 (kube-apiserver's default). */
  anonymousAuth?: boolean;
  /** Interval between BOOKMARK events on watches that allow them; default 60 000 (the real server: ~1 min). */
  bookmarkIntervalMs?: number;
  /** How long a watch without `timeoutSeconds` stays open before the server ends it; default 1 800 000. */
  watchTimeoutMs?: number;
  /** Events kept for watch replay and list snapshots (etcd's history); default 1000. */
  historyLimit?: number;
  /** How long a read at a resourceVersion newer than the store waits before 504; default 3000. */
  resourceVersionWaitMs?: number;
  /** Namespaces that exist at start; default `default`, `kube-system`, `kube-public`, `kube-node-lease`. */
  namespaces?: string[];
  /** Name of the cluster in generated kubeconfigs; default `fedview-test`. */
  clusterName?: string;
  /** Source of `creationTimestamp`s; default the wall clock. */
  clock?: () => Date;
  /** TCP port on 127.0.0.1; default one the OS picks. */
  port?: number;
}

/** A bearer-token user. */
export interface KubeTokenUser {
  name: string;
  token: string;
  /** Groups as the server sees them, including `system:authenticated`. */
  groups: string[];
}

/** A client certificate issued by the server's CA; CN is the user, O the groups. */
export interface KubeClientCertificate extends CertificatePair {
  user: string;
  groups: string[];
}

/** What a generated kubeconfig authenticates as. */
export interface KubeconfigOptions {
  /** A user added with `addTokenUser`/`addServiceAccountUser` or given a client certificate; default `admin`. */
  user?: string;
  /** Which credentials of `user` to use when it has both; default the token. */
  auth?: "token" | "certificate";
  /** Write this bearer token instead (e.g. a wrong one for a 401 test). */
  token?: string;
  /** Default namespace of the context. */
  namespace?: string;
  /** Server URL to write; default the server's own (point elsewhere to test connection failures). */
  server?: string;
  /** Cluster and context name; default the server's `clusterName`. */
  clusterName?: string;
}

/** Filters for the direct `list`. */
export interface KubeListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

/** One request the server received, for tests that check what a client asked for. */
export interface KubeRequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Authenticated user, if any. */
  user?: string;
  /** Resource verb (get, list, watch, create, …), for resource requests. */
  verb?: string;
  /** HTTP status sent; 0 while a response is still open or when the socket was destroyed first. */
  status: number;
}

/** A running Kubernetes API test server. Dispose with `await using`. */
export interface KubeApiServer extends AsyncDisposable {
  /** `https://127.0.0.1:<port>` */
  readonly url: string;
  /** PEM of the CA that signed the serving certificate and issues client certificates. */
  readonly ca: string;
  readonly caFile: string;
  /** Token of the built-in `admin` superuser. */
  readonly adminToken: string;
  readonly authority: CertificateAuthority;

  /** The current global resourceVersion. */
  resourceVersion(): string;

  /** Adds a bearer-token user (token random when not given). */
  addTokenUser(name: string, token?: string, groups?: string[]): KubeTokenUser;
  /** Adds a ServiceAccount token user `system:serviceaccount:<ns>:<name>` with the ServiceAccount groups. */
  addServiceAccountUser(namespace: string, name: string, token?: string): KubeTokenUser;
  /** Stops accepting a token; open watches stay open, as on the real server. */
  revokeToken(token: string): void;
  /** Issues a client certificate with CN = user, O = groups, signed by the server's CA. */
  issueClientCertificate(user: string, groups?: string[]): Promise<KubeClientCertificate>;
  /** Grants RBAC rules to a user (like a ClusterRoleBinding, or RoleBindings with `namespaces`). */
  grant(user: string, rules: PolicyRule[]): void;
  /** Grants RBAC rules to every member of a group. */
  grantGroup(group: string, rules: PolicyRule[]): void;
  /** Removes every rule granted to the user (group grants stay). */
  revoke(user: string): void;
  /** A kubeconfig YAML for a user, with the CA embedded as `certificate-authority-data`. */
  kubeconfig(options?: KubeconfigOptions): string;
  /** Writes `kubeconfig(options)` to a file (mode 0600) in the server's temp dir and returns its path. */
  writeKubeconfig(options?: KubeconfigOptions & { path?: string }): Promise<string>;

  /** Serves another kind, e.g. a further CRD. */
  registerResource(options: RegisterResourceOptions): ResourceDefinition;
  /** Every served kind. */
  resources(): ResourceDefinition[];

  /** Stores an object (namespace default `default` for namespaced kinds); no admission checks. */
  create(ref: ResourceRef | string, object: object): KubeObject;
  /** Replaces an object; a given `metadata.resourceVersion` must be current. Status is written as given. */
  update(ref: ResourceRef | string, object: object): KubeObject;
  /** Deletes an object and returns its last state. */
  delete(ref: ResourceRef | string, name: string, namespace?: string): KubeObject;
  get(ref: ResourceRef | string, name: string, namespace?: string): KubeObject | undefined;
  list(ref: ResourceRef | string, options?: KubeListOptions): KubeObject[];

  /** Destroys every open socket (watches and idle keep-alive connections); returns how many. */
  dropConnections(): number;
  /** Holds every watch silent — no events, bookmarks or ends — while keeping its socket open. */
  hangWatches(): void;
  /** Sends everything held back since `hangWatches` and carries on. */
  resumeWatches(): void;
  /** Compacts all history: watches and continue tokens from any version before now get 410. */
  expireVersions(): void;
  /** The next `count` requests whose path+query match get `status` (429, 500, 503, …) instead of an answer. */
  failNext(path: RegExp | string, status: number, count?: number): void;
  /** Keeps only the newest `limit` events; older versions become too old. */
  setHistoryLimit(limit: number): void;
  /** Ends every watch cleanly now, as the server does when a watch times out. */
  closeWatches(): void;
  /** Sends a BOOKMARK now on every watch that allows them. */
  sendBookmarks(): void;

  /** Open watches. */
  watches(): WatchInfo[];
  /** The most recent requests (up to 1000), oldest first. */
  requests(): KubeRequestRecord[];
}

const DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];
const MAX_BODY_BYTES = 3 * 1024 * 1024;
const MAX_RECORDS = 1000;
const PUBLIC_PATHS = /^\/(version|healthz|livez|readyz)(\/.*)?$/;
const VERSION_DOCUMENT = {
  major: "1",
  minor: "31",
  gitVersion: "v1.31.0",
  gitCommit: "9edcffcde5595e8a5b1a35f88c421764e575afce",
  gitTreeState: "clean",
  buildDate: "2024-08-13T07:28:49Z",
  goVersion: "go1.22.5",
  compiler: "gc",
  platform: "linux/amd64",
};

interface Fault {
  pattern: RegExp;
  status: number;
  remaining: number;
}

function mediaType(req: IncomingMessage): string {
  return (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > MAX_BODY_BYTES) {
        reject(new KubeStatusError(requestEntityTooLarge(MAX_BODY_BYTES)));
      } else {
        resolve(Buffer.concat(chunks));
      }
    });
    req.on("error", reject);
  });
}

/**
 * Starts a Kubernetes API test server on 127.0.0.1 over HTTPS with a fresh CA. It speaks the wire
 * protocol of kube-apiserver for the kinds it serves (core v1 kinds the Calico connector reads and the
 * `crd.projectcalico.org/v1` kinds), so `@kubernetes/client-node` works against it unchanged.
 */
export async function startKubeApiServer(options: StartKubeApiServerOptions = {}): Promise<KubeApiServer> {
  const authority = await createCertificateAuthority("fedview-kube-ca");
  try {
    const serving = await authority.issue("kube-apiserver", {
      dnsNames: ["kubernetes", "kubernetes.default", "kubernetes.default.svc"],
    });
    const server = new KubeApiTestServer(authority, serving, options);
    await server.listen(options.port ?? 0);
    return server;
  } catch (err) {
    await rm(authority.dir, { recursive: true, force: true });
    throw err;
  }
}

class KubeApiTestServer implements KubeApiServer {
  readonly authority: CertificateAuthority;
  readonly ca: string;
  readonly caFile: string;
  readonly adminToken: string;
  url = "";

  readonly #registry = new ResourceRegistry();
  readonly #store: ObjectStore;
  readonly #authn: Authenticator;
  readonly #authz = new Authorizer();
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #watches = new Set<WatchStream>();
  readonly #tokenUsers = new Map<string, KubeTokenUser>();
  readonly #certUsers = new Map<string, KubeClientCertificate>();
  readonly #faults: Fault[] = [];
  readonly #records: KubeRequestRecord[] = [];
  readonly #bookmarkTimer: NodeJS.Timeout;
  readonly #watchTimeoutMs: number;
  readonly #resourceVersionWaitMs: number;
  readonly #clusterName: string;
  #hung = false;
  #disposed = false;
  #kubeconfigs = 0;

  constructor(authority: CertificateAuthority, serving: CertificatePair, options: StartKubeApiServerOptions) {
    this.authority = authority;
    this.ca = authority.ca;
    this.caFile = authority.caFile;
    this.#store = new ObjectStore({
      historyLimit: options.historyLimit ?? 1000,
      clock: options.clock ?? (() => new Date()),
    });
    this.#authn = new Authenticator(options.anonymousAuth ?? false);
    this.#watchTimeoutMs = options.watchTimeoutMs ?? 1_800_000;
    this.#resourceVersionWaitMs = options.resourceVersionWaitMs ?? 3000;
    this.#clusterName = options.clusterName ?? "fedview-test";
    for (const def of [...CORE_RESOURCES, ...CALICO_RESOURCES]) this.#registry.register(def);

    this.adminToken = options.adminToken ?? randomBytes(24).toString("hex");
    this.addTokenUser("admin", this.adminToken, [SUPERUSER_GROUP]);

    const namespaces = this.#registry.resolve({ group: "", plural: "namespaces" });
    for (const name of options.namespaces ?? DEFAULT_NAMESPACES) {
      this.#store.create(namespaces, { apiVersion: "v1", kind: "Namespace", metadata: { name } });
    }

    this.#store.subscribe((event) => {
      for (const w of this.#watches) if (w.live && w.accepts(event)) w.deliver(event);
    });
    // Client certificates are requested but checked by the authenticator, like kube-apiserver's
    // `RequestClientCert`: a bad certificate is a 401, not a failed handshake.
    this.#server = createServer(
      { key: serving.key, cert: serving.cert, ca: authority.ca, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        this.#handle(req, res).catch((err: unknown) => this.#fail(res, err));
      },
    );
    this.#server.on("connection", (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
    });
    // A client that vanishes mid-handshake is not the server's problem; keep it out of the test output.
    this.#server.on("tlsClientError", () => {});
    this.#bookmarkTimer = setInterval(() => this.sendBookmarks(), options.bookmarkIntervalMs ?? 60_000);
    this.#bookmarkTimer.unref();
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once("error", reject);
      this.#server.listen(port, "127.0.0.1", () => {
        this.#server.off("error", reject);
        const address = this.#server.address();
        if (address === null || typeof address === "string") {
          reject(new TestServerError("the Kubernetes API test server has no TCP address"));
          return;
        }
        this.url = `https://127.0.0.1:${address.port}`;
        resolve();
      });
    });
  }

  resourceVersion(): string {
    return String(this.#store.resourceVersion);
  }

  // ---- users, RBAC, kubeconfig ----

  addTokenUser(name: string, token: string = randomBytes(24).toString("hex"), groups: string[] = []): KubeTokenUser {
    const info = this.#authn.addToken(token, name, groups);
    const user = { name, token, groups: info.groups };
    this.#tokenUsers.set(name, user);
    return { ...user, groups: [...user.groups] };
  }

  addServiceAccountUser(namespace: string, name: string, token?: string): KubeTokenUser {
    return this.addTokenUser(`system:serviceaccount:${namespace}:${name}`, token, [
      "system:serviceaccounts",
      `system:serviceaccounts:${namespace}`,
    ]);
  }

  revokeToken(token: string): void {
    this.#authn.removeToken(token);
    for (const [name, user] of this.#tokenUsers) if (user.token === token) this.#tokenUsers.delete(name);
  }

  async issueClientCertificate(user: string, groups: string[] = []): Promise<KubeClientCertificate> {
    const pair = await this.authority.issue(user, { organizations: groups });
    const issued = { ...pair, user, groups: [...groups] };
    this.#certUsers.set(user, issued);
    return issued;
  }

  grant(user: string, rules: PolicyRule[]): void {
    this.#authz.grantUser(user, rules);
  }

  grantGroup(group: string, rules: PolicyRule[]): void {
    this.#authz.grantGroup(group, rules);
  }

  revoke(user: string): void {
    this.#authz.revokeUser(user);
  }

  kubeconfig(options: KubeconfigOptions = {}): string {
    let userName: string;
    let credentials: KubeconfigCredentials;
    if (options.token !== undefined) {
      userName = options.user ?? "token-user";
      credentials = { token: options.token };
    } else {
      userName = options.user ?? "admin";
      const tokenUser = this.#tokenUsers.get(userName);
      const certUser = this.#certUsers.get(userName);
      if (certUser !== undefined && (options.auth === "certificate" || tokenUser === undefined)) {
        credentials = { cert: certUser.cert, key: certUser.key };
      } else if (tokenUser !== undefined && options.auth !== "certificate") {
        credentials = { token: tokenUser.token };
      } else {
        throw new TestServerError(
          `no ${options.auth ?? "token or certificate"} credentials for user "${userName}": call addTokenUser or issueClientCertificate first`,
        );
      }
    }
    return buildKubeconfig({
      server: options.server ?? this.url,
      ca: this.ca,
      clusterName: options.clusterName ?? this.#clusterName,
      userName,
      credentials,
      ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    });
  }

  async writeKubeconfig(options: KubeconfigOptions & { path?: string } = {}): Promise<string> {
    const path = options.path ?? join(this.authority.dir, `kubeconfig-${++this.#kubeconfigs}.yaml`);
    await writeFile(path, this.kubeconfig(options), { mode: 0o600 });
    return path;
  }

  // ---- registry and direct object API ----

  registerResource(options: RegisterResourceOptions): ResourceDefinition {
    return this.#registry.register(options);
  }

  resources(): ResourceDefinition[] {
    return this.#registry.all();
  }

  #input(def: ResourceDefinition, object: object): KubeObject {
    const input = cloneJson(object) as KubeObject;
    input.metadata = { ...(input.metadata ?? {}) };
    if (def.namespaced) input.metadata.namespace = input.metadata.namespace || "default";
    else delete input.metadata.namespace;
    return input;
  }

  create(ref: ResourceRef | string, object: object): KubeObject {
    const def = this.#registry.resolve(ref);
    const input = this.#input(def, object);
    if (!input.metadata.name && input.metadata.generateName) {
      input.metadata.name = `${input.metadata.generateName}${generateNameSuffix()}`;
    }
    return cloneJson(this.#store.create(def, input));
  }

  update(ref: ResourceRef | string, object: object): KubeObject {
    const def = this.#registry.resolve(ref);
    return cloneJson(this.#store.update(def, this.#input(def, object)));
  }

  delete(ref: ResourceRef | string, name: string, namespace?: string): KubeObject {
    const def = this.#registry.resolve(ref);
    return cloneJson(this.#store.delete(def, def.namespaced ? (namespace ?? "default") : undefined, name));
  }

  get(ref: ResourceRef | string, name: string, namespace?: string): KubeObject | undefined {
    const def = this.#registry.resolve(ref);
    const object = this.#store.get(def, def.namespaced ? (namespace ?? "default") : undefined, name);
    return object === undefined ? undefined : cloneJson(object);
  }

  list(ref: ResourceRef | string, options: KubeListOptions = {}): KubeObject[] {
    const def = this.#registry.resolve(ref);
    const { predicate } = compileSelectors(def, options.labelSelector, options.fieldSelector);
    const namespace = def.namespaced ? options.namespace : undefined;
    return this.#store.list(def, namespace).items.filter(predicate).map(cloneJson);
  }

  // ---- faults ----

  dropConnections(): number {
    const sockets = [...this.#sockets];
    for (const socket of sockets) socket.destroy();
    for (const w of [...this.#watches]) w.destroy();
    return sockets.length;
  }

  hangWatches(): void {
    this.#hung = true;
  }

  resumeWatches(): void {
    this.#hung = false;
    for (const w of [...this.#watches]) w.resume();
  }

  expireVersions(): void {
    this.#store.compact();
  }

  failNext(path: RegExp | string, status: number, count = 1): void {
    const pattern = typeof path === "string" ? new RegExp(path) : path;
    this.#faults.push({ pattern, status, remaining: count });
  }

  setHistoryLimit(limit: number): void {
    this.#store.setHistoryLimit(limit);
  }

  closeWatches(): void {
    for (const w of [...this.#watches]) w.end();
  }

  sendBookmarks(): void {
    for (const w of [...this.#watches]) if (w.live) w.bookmark(this.#store.resourceVersion);
  }

  watches(): WatchInfo[] {
    return [...this.#watches].filter((w) => !w.closed).map((w) => w.info());
  }

  requests(): KubeRequestRecord[] {
    return this.#records.map((r) => ({ ...r, query: { ...r.query } }));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    clearInterval(this.#bookmarkTimer);
    for (const w of [...this.#watches]) w.destroy();
    this.#store.close();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    for (const socket of this.#sockets) socket.destroy();
    await closed;
    await rm(this.authority.dir, { recursive: true, force: true });
  }

  // ---- HTTP ----

  #takeFault(target: string): Fault | undefined {
    const fault = this.#faults.find((f) => f.remaining > 0 && f.pattern.test(target));
    if (fault !== undefined) {
      fault.remaining--;
      if (fault.remaining === 0) this.#faults.splice(this.#faults.indexOf(fault), 1);
    }
    return fault;
  }

  #record(req: IncomingMessage, res: ServerResponse, url: URL): KubeRequestRecord {
    const record: KubeRequestRecord = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
    };
    this.#records.push(record);
    if (this.#records.length > MAX_RECORDS) this.#records.shift();
    res.on("close", () => {
      if (record.status === 0 && res.headersSent && res.writableFinished) record.status = res.statusCode;
    });
    return record;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const record = this.#record(req, res, url);
    const headers = { "Audit-Id": randomUUID() };
    const reply = (status: number, body: unknown, extra: Record<string, string> = {}): void => {
      record.status = status;
      const payload = JSON.stringify(body);
      res.writeHead(status, {
        ...headers,
        ...extra,
        "Content-Type": "application/json",
        "Cache-Control": "no-cache, private",
        "Content-Length": Buffer.byteLength(payload),
      });
      res.end(payload);
    };
    const replyStatus = (status: KubeStatus): void => {
      const retry = status.details?.retryAfterSeconds;
      reply(status.code, status, retry !== undefined ? { "Retry-After": String(retry) } : {});
    };

    const method = req.method ?? "GET";
    const hasBody = method === "POST" || method === "PUT" || method === "PATCH" || method === "DELETE";
    const raw = hasBody ? await readBody(req) : undefined;
    if (!hasBody) req.resume();

    const authn = this.#authn.authenticate(req);
    if (authn.user === undefined) {
      replyStatus(unauthorized());
      return;
    }
    const user = authn.user;
    record.user = user.name;

    const fault = this.#takeFault(`${url.pathname}${url.search}`);
    if (fault !== undefined) {
      replyStatus(injectedFault(fault.status));
      return;
    }

    try {
      const info = parseRequestInfo(method, url);
      if (info.kind === "nonResource") {
        const done = this.#nonResource(info.path, info.verb, user, reply, replyStatus);
        if (!done) replyStatus(pageNotFound());
        return;
      }
      if (info.kind === "groupVersion") {
        // Group-version discovery is a non-resource path granted to authenticated users (system:discovery).
        if (!user.groups.includes(AUTHENTICATED_GROUP)) {
          replyStatus(forbiddenPath(user.name, method === "GET" ? "get" : method.toLowerCase(), url.pathname));
          return;
        }
        const doc = resourceListDocument(this.#registry, info.group, info.version);
        if (doc === undefined) replyStatus(pageNotFound());
        else reply(200, doc);
        return;
      }
      record.verb = info.verb;
      const attributes = {
        user,
        verb: info.verb,
        apiGroup: info.group,
        resource: info.resource,
        ...(info.subresource !== undefined ? { subresource: info.subresource } : {}),
        ...(info.namespace !== undefined ? { namespace: info.namespace } : {}),
        ...(info.name !== undefined ? { name: info.name } : {}),
      };
      const decision = this.#authz.authorize(attributes);
      if (!decision.allowed) {
        replyStatus(forbidden({ group: info.group, resource: info.resource }, info.name, decision.reason));
        return;
      }
      const def = this.#registry.find(info.group, info.version, info.resource);
      if (def === undefined) {
        replyStatus(pageNotFound());
        return;
      }
      const body: RequestBody | undefined = raw === undefined ? undefined : { contentType: mediaType(req), raw };
      const ctx: HandlerContext = {
        store: this.#store,
        registry: this.#registry,
        watchTimeoutMs: this.#watchTimeoutMs,
        resourceVersionWaitMs: this.#resourceVersionWaitMs,
        headers,
        openWatch: (options) => {
          record.status = 200;
          const stream = new WatchStream({
            ...options,
            isHung: () => this.#hung,
            currentVersion: () => this.#store.resourceVersion,
            onClosed: (s) => this.#watches.delete(s),
          });
          if (!stream.closed) this.#watches.add(stream);
          return stream;
        },
      };
      const result = await handleResourceRequest(ctx, res, url, info, def, user, body);
      if (result !== undefined) reply(result.status, result.body);
    } catch (err) {
      if (err instanceof KubeStatusError && !res.headersSent) replyStatus(err.status);
      else throw err;
    }
  }

  /** Non-resource paths; returns false for a path the server does not serve. */
  #nonResource(
    path: string,
    verb: string,
    user: KubeUserInfo,
    reply: (status: number, body: unknown) => void,
    replyStatus: (status: KubeStatus) => void,
  ): boolean {
    if (PUBLIC_PATHS.test(path)) {
      if (path.startsWith("/version")) reply(200, VERSION_DOCUMENT);
      else reply(200, "ok");
      return true;
    }
    // Discovery is for authenticated users (system:discovery); anything else needs a superuser here.
    const authenticated = user.groups.includes(AUTHENTICATED_GROUP);
    const discovery = path === "/api" || path === "/apis" || path.startsWith("/apis/");
    if (!authenticated || (!discovery && !user.groups.includes(SUPERUSER_GROUP))) {
      replyStatus(forbiddenPath(user.name, verb, path));
      return true;
    }
    if (path === "/api" || path === "/api/") {
      reply(200, coreVersionsDocument(this.url.replace(/^https:\/\//, "")));
      return true;
    }
    if (path === "/apis" || path === "/apis/") {
      reply(200, groupListDocument(this.#registry));
      return true;
    }
    const group = /^\/apis\/([^/]+)\/?$/.exec(path)?.[1];
    const doc = group === undefined ? undefined : groupDocumentFor(this.#registry, group);
    if (doc === undefined) return false;
    reply(200, doc);
    return true;
  }

  #fail(res: ServerResponse, err: unknown): void {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const status =
      err instanceof KubeStatusError ? err.status : internalError(err instanceof Error ? err.message : String(err));
    const payload = JSON.stringify(status);
    res.writeHead(status.code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) });
    res.end(payload);
  }
}
