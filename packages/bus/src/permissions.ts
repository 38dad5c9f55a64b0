/**
 * Least-privilege NATS permissions of every fedview role, derived from the subject scheme in
 * `subjects.ts`, and the nats-server `authorization` block that gives them to users.
 *
 * | role             | publishes                                                   | subscribes                        |
 * |------------------|-------------------------------------------------------------|-----------------------------------|
 * | `config-service` | connection configs (`$KV.<connections>.>`), statuses, its    | `fedview.v1.config.>`, `$SRV`     |
 * |                  | leader lease (one key of `$KV.<leases>`)                     |                                   |
 * | `etcd-connector` | resources, statuses, leases (`$KV.<leases>.>`)              | its inbox only                    |
 * | `k8s-connector`  | same as `etcd-connector`                                    | its inbox only                    |
 * | `query-service`  | replies and watch streams (`_INBOX.>`) only                 | `fedview.v1.query.>`, `$SRV`      |
 * | `query-client`   | `fedview.v1.query.>` requests                               | resources, statuses (read-only)   |
 * | `cli`            | query and config requests, `$SRV.PING|INFO|STATS` (the      | resources, statuses (read-only)   |
 * |                  | config service's INFO carries the key `fedview apply` seals to) |                               |
 *
 * JetStream is reached through its API subjects, so each role gets exactly the API calls it makes on
 * the streams it uses (`$JS.API.STREAM.INFO.<stream>`, `…CONSUMER.CREATE.<stream>.>`, …): a connector
 * reads the connection-config bucket but cannot write it, a query client reaches no JetStream API at
 * all. Nothing but the config service can publish a connection config; nothing but a connector can
 * publish a resource event.
 *
 * Replies: every role may publish to `_INBOX.>` (answers, chunk fetches, watch heartbeats), but
 * subscribes only to its own inbox prefix. `connectBus` gives a client that logs in with a user name
 * the prefix `inboxPrefixFor(user)`, so with per-service users nobody reads another's replies — which
 * is where JetStream delivers consumer messages, connection configs included.
 */
import {
  CONFIG_SERVICE_NAME,
  configSubject,
  DEFAULT_CONNECTIONS_BUCKET,
  DEFAULT_LEASES_BUCKET,
  DEFAULT_STATE_STREAM,
  encodeSubjectToken,
  kvKeySubject,
  kvStreamName,
  leaseKey,
  QUERY_SERVICE_NAME,
  querySubject,
  RESOURCE_SUBJECTS,
  STATUS_SUBJECTS,
} from "./subjects.js";

/** Every role a NATS user of fedview can have. */
export const SERVICE_ROLES = [
  "config-service",
  "etcd-connector",
  "k8s-connector",
  "query-service",
  "query-client",
  "cli",
] as const;

/** One fedview role (see the module comment). */
export type ServiceRole = (typeof SERVICE_ROLES)[number];

/** Allow and deny lists of one direction, as nats-server reads them. */
export interface SubjectRule {
  allow: string[];
  deny: string[];
}

/** A user's permissions, in nats-server's `authorization.users[].permissions` shape. */
export interface SubjectPermissions {
  publish: SubjectRule;
  subscribe: SubjectRule;
  /** Lets the user answer the requests it receives, whatever their reply subject. */
  allowResponses: boolean;
}

/** Names and choices the permissions depend on. */
export interface ServicePermissionsOptions {
  /** The user the role logs in as: its inbox prefix is then `inboxPrefixFor(user)`. */
  user?: string;
  /** The inbox prefix of the role's clients, when set explicitly (`BusConnectOptions.inboxPrefix`). */
  inboxPrefix?: string;
  /** State stream; default `FEDVIEW_STATE`. */
  stateStream?: string;
  /** Connection-config bucket; default `fedview-connections`. */
  connectionsBucket?: string;
  /** Lease bucket; default `fedview-leases`. */
  leasesBucket?: string;
  /**
   * Leases the config service may write: its leader election lease, which shares the connectors' lease
   * bucket. Default `["leader:config-service"]` (config-service's `CONFIG_SERVICE_LEASE`).
   */
  configServiceLeases?: string[];
  /**
   * Also let the role create and update the stream and buckets it uses (its `FEDVIEW_ENSURE_STREAM`).
   * Default false: an operator (or one trusted job) sets the topology up, services only use it.
   */
  manageTopology?: boolean;
}

const DEFAULT_INBOX_PREFIX = "_INBOX";
/** config-service's leader election lease (its `CONFIG_SERVICE_LEASE`). */
const CONFIG_SERVICE_LEASE = "leader:config-service";
const JS_API = "$JS.API";
const JS_FLOW_CONTROL = "$JS.FC";

/**
 * The inbox prefix of a user: `_INBOX.<user>` (the user name token-encoded). `connectBus` uses it
 * for clients that log in with a user name, and {@link servicePermissions} confines the user to it.
 */
export function inboxPrefixFor(user: string): string {
  return `${DEFAULT_INBOX_PREFIX}.${encodeSubjectToken(user)}`;
}

/** What a role may do on one stream through the JetStream API. */
interface StreamAccess {
  stream: string;
  /** Create (and update) the stream; only with `manageTopology`. */
  manage: boolean;
}

function readStream(stream: string, manage: boolean): string[] {
  const api = [
    `${JS_API}.STREAM.INFO.${stream}`,
    `${JS_API}.STREAM.MSG.GET.${stream}`,
    `${JS_API}.DIRECT.GET.${stream}`,
    `${JS_API}.DIRECT.GET.${stream}.>`,
    // Ordered consumers, named and filtered in the subject (nats-server 2.9+), or unnamed.
    `${JS_API}.CONSUMER.CREATE.${stream}`,
    `${JS_API}.CONSUMER.CREATE.${stream}.>`,
    `${JS_API}.CONSUMER.INFO.${stream}.*`,
    `${JS_API}.CONSUMER.DELETE.${stream}.*`,
    `${JS_API}.CONSUMER.MSG.NEXT.${stream}.*`,
    // Push consumers with flow control (KV keys and watches) answer the server's flow-control requests.
    `${JS_FLOW_CONTROL}.${stream}.>`,
  ];
  if (manage) api.push(`${JS_API}.STREAM.CREATE.${stream}`, `${JS_API}.STREAM.UPDATE.${stream}`);
  return api;
}

function jetStreamApi(streams: StreamAccess[]): string[] {
  if (streams.length === 0) return [];
  return [`${JS_API}.INFO`, ...streams.flatMap((s) => readStream(s.stream, s.manage))];
}

/** `$SRV.PING|INFO|STATS` requests addressed to everyone, to the service name, or to one instance. */
function microDiscovery(name: string): string[] {
  return ["$SRV.*", `$SRV.*.${name}`, `$SRV.*.${name}.*`];
}

function inboxes(options: ServicePermissionsOptions): string {
  const prefix =
    options.inboxPrefix ?? (options.user === undefined ? DEFAULT_INBOX_PREFIX : inboxPrefixFor(options.user));
  return `${prefix}.>`;
}

function allQuery(): string {
  return querySubject("eval").replace(/\.eval$/, ".>");
}

function allConfig(): string {
  return configSubject("get").replace(/\.get$/, ".>");
}

/**
 * The permissions of `role`: what it must publish and subscribe to do its work, nothing more.
 * Feed them to nats-server as a user's `permissions` (see {@link natsAuthorization}).
 */
export function servicePermissions(role: ServiceRole, options: ServicePermissionsOptions = {}): SubjectPermissions {
  const state = options.stateStream ?? DEFAULT_STATE_STREAM;
  const connections = options.connectionsBucket ?? DEFAULT_CONNECTIONS_BUCKET;
  const leases = options.leasesBucket ?? DEFAULT_LEASES_BUCKET;
  const manage = options.manageTopology === true;
  const inbox = inboxes(options);
  const replies = `${DEFAULT_INBOX_PREFIX}.>`;
  const connectionKeys = kvKeySubject(connections, ">");
  const leaseKeys = kvKeySubject(leases, ">");
  // What nobody but the owner may publish, spelled out so that a broad allow added later cannot leak it.
  const owned = [RESOURCE_SUBJECTS, STATUS_SUBJECTS, connectionKeys, leaseKeys];
  const denyAllBut = (...mine: string[]) => owned.filter((s) => !mine.includes(s));

  switch (role) {
    case "config-service": {
      // Only its own lease: a config service must not be able to take a connector's clusters.
      const leaderLeases = (options.configServiceLeases ?? [CONFIG_SERVICE_LEASE]).map((name) =>
        kvKeySubject(leases, leaseKey(name)),
      );
      return {
        publish: {
          allow: [
            connectionKeys,
            STATUS_SUBJECTS,
            ...leaderLeases,
            replies,
            ...jetStreamApi([
              { stream: kvStreamName(connections), manage },
              { stream: state, manage },
              { stream: kvStreamName(leases), manage },
            ]),
          ],
          deny: [RESOURCE_SUBJECTS],
        },
        subscribe: { allow: [allConfig(), ...microDiscovery(CONFIG_SERVICE_NAME), inbox], deny: [] },
        allowResponses: true,
      };
    }
    case "etcd-connector":
    case "k8s-connector":
      return {
        publish: {
          allow: [
            RESOURCE_SUBJECTS,
            STATUS_SUBJECTS,
            leaseKeys,
            replies,
            ...jetStreamApi([
              { stream: state, manage },
              { stream: kvStreamName(connections), manage },
              { stream: kvStreamName(leases), manage },
            ]),
          ],
          deny: denyAllBut(RESOURCE_SUBJECTS, STATUS_SUBJECTS, leaseKeys),
        },
        subscribe: { allow: [inbox], deny: [] },
        allowResponses: false,
      };
    case "query-service":
      return {
        publish: {
          allow: [replies, ...jetStreamApi([{ stream: state, manage }])],
          deny: denyAllBut(),
        },
        subscribe: { allow: [allQuery(), ...microDiscovery(QUERY_SERVICE_NAME), inbox], deny: [] },
        allowResponses: true,
      };
    case "query-client":
      return {
        publish: { allow: [allQuery(), replies], deny: denyAllBut() },
        subscribe: { allow: [RESOURCE_SUBJECTS, STATUS_SUBJECTS, inbox], deny: [] },
        allowResponses: true,
      };
    case "cli":
      return {
        publish: {
          allow: [allQuery(), allConfig(), ...microDiscovery(CONFIG_SERVICE_NAME), replies],
          deny: denyAllBut(),
        },
        subscribe: { allow: [RESOURCE_SUBJECTS, STATUS_SUBJECTS, inbox], deny: [] },
        allowResponses: true,
      };
  }
}

/** A NATS user of one fedview role. */
export interface RoleUser {
  user: string;
  password: string;
  role: ServiceRole;
}

function quote(value: string): string {
  return JSON.stringify(value);
}

function ruleText(rule: SubjectRule): string {
  const parts = [`allow: [${rule.allow.map(quote).join(", ")}]`];
  if (rule.deny.length > 0) parts.push(`deny: [${rule.deny.map(quote).join(", ")}]`);
  return `{ ${parts.join(", ")} }`;
}

/**
 * The nats-server `authorization { users: [...] }` block giving each user the permissions of its role
 * (each user's inbox prefix derived from its name). Options other than `user` apply to every user.
 */
export function natsAuthorization(
  users: readonly RoleUser[],
  options: Omit<ServicePermissionsOptions, "user" | "inboxPrefix"> = {},
): string {
  const entries = users.map((u) => {
    const p = servicePermissions(u.role, { ...options, user: u.user });
    const permissions = [
      `publish: ${ruleText(p.publish)}`,
      `subscribe: ${ruleText(p.subscribe)}`,
      ...(p.allowResponses ? ["allow_responses: true"] : []),
    ];
    return `    { user: ${quote(u.user)}, password: ${quote(u.password)}, permissions: { ${permissions.join(", ")} } }`;
  });
  return `authorization {\n  users: [\n${entries.join(",\n")}\n  ]\n}\n`;
}
