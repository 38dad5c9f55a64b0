/**
 * The federated view: every cluster's endpoints and profiles, and the local policies and tiers, in
 * memory, with the label index doing selector matching and profile inheritance. No I/O: the service
 * feeds it bus messages; the CLI's in-process mode may feed it directly.
 *
 * Memory per endpoint is kept small: the record holds only what results print (strings shared
 * through an intern table where many endpoints repeat them); labels live once, in the index, and
 * inherited labels are never copied onto endpoints.
 */

import { type ClusterStatus, type ClusterStatusMessage, compareVersions, type ResourceEvent } from "@fedview/bus";
import {
  type GlobalNetworkPolicy,
  type HostEndpoint,
  hostEndpointDisplayName,
  hostEndpointIdentity,
  hostEndpointOwnLabels,
  isLocalCluster,
  LOCAL_CLUSTER,
  type NetworkPolicy,
  type Profile,
  profileLabels,
  qualifyPolicyName,
  resourceKindInfo,
  type Tier,
  type WorkloadEndpoint,
  workloadEndpointDisplayName,
  workloadEndpointIdentity,
  workloadEndpointOwnLabels,
} from "@fedview/model";
import { LabelIndex, parseSelector, type Selector } from "@fedview/selector";
import { isPlainViewResource } from "./fast-validate.js";
import { type CompiledPolicy, comparePolicies, compilePolicy, effectiveTierOrder } from "./policy-eval.js";
import {
  type ClusterProblem,
  type ClusterStatusRow,
  ENDPOINT_KINDS,
  type EndpointKind,
  type EndpointResult,
  type EndpointsResult,
  type EvalResult,
  type PolicyRef,
  type PolicyResult,
  type QueryOptions,
  type RuleMatch,
  type WatchEvent,
} from "./types.js";

/** The (generation, revision) stamp of what the view holds for one resource. */
interface Version {
  generation: number;
  revision: string;
}

/** A deleted resource's last version, and when the view learned of the deletion. */
interface Tombstone extends Version {
  at: number;
}

/** What the view keeps per endpoint: only what results print. */
interface EndpointRecord extends Version {
  key: string;
  cluster: string;
  kind: EndpointKind;
  /** Node with the cluster prefix for remote endpoints. */
  host: string;
  orchestrator: string;
  /** `<ns>/<pod>`; "" for host endpoints. */
  workload: string;
  name: string;
  /**
   * calicoq's full name when it is not the usual `<host>/<orchestrator>/<ns>.<pod>/<endpoint>` (or
   * `<host>/<name>`) built from the fields above; undefined in the usual case, which saves a string
   * per endpoint (see `displayOf`).
   */
  display: string | undefined;
  profiles: readonly string[];
}

interface ProfileRecord extends Version {
  cluster: string;
  /** The merged-view profile ID (prefixed for remote clusters): the index parent ID. */
  name: string;
}

interface PolicyRecord extends Version {
  policy: CompiledPolicy;
}

interface TierRecord extends Version {
  name: string;
  order: number | undefined;
}

/** Per-cluster counts of what the view holds. */
interface ClusterCounts {
  workloadEndpoints: number;
  hostEndpoints: number;
  profiles: number;
  policies: number;
  tiers: number;
}

/** A view-size sample for metrics. */
export interface ViewSize {
  cluster: string;
  kind: "WorkloadEndpoint" | "HostEndpoint" | "Profile" | "NetworkPolicy" | "Tier";
  count: number;
}

/** Why `applyResourceEvent` did not apply an event (for metrics and logs). */
export type DropReason = "stale" | "unknown-kind" | "remote-policy" | "invalid";

/** Options of `FederatedView`. */
export interface FederatedViewOptions {
  /** Called for every event the view drops, with the reason. */
  onDrop?: (event: ResourceEvent, reason: DropReason, detail?: string) => void;
  /**
   * How long the version of a deleted resource is remembered, in milliseconds (default 5 minutes: far above a stale replica's lease TTL and ack timeouts).
   * Within it, an older upsert arriving late (a stale replica, a reordered replay) cannot bring the
   * resource back; past it the view forgets, so that endpoints created and deleted all day do not
   * grow the view without bound. `Infinity` keeps every tombstone.
   */
  tombstoneRetentionMs?: number;
  /** The clock tombstones age by; default `Date.now`. */
  now?: () => number;
}

/** Default {@link FederatedViewOptions.tombstoneRetentionMs}. */
export const DEFAULT_TOMBSTONE_RETENTION_MS = 5 * 60 * 1000;

/** A live `watch`. Dispose it (or call `close`) to stop; no event follows. */
export interface ViewWatch extends Disposable {
  close(): void;
}

const KIND_CODE = {
  WorkloadEndpoint: "W",
  HostEndpoint: "H",
  Profile: "P",
  NetworkPolicy: "N",
  GlobalNetworkPolicy: "G",
  Tier: "T",
} as const;
type ViewKind = keyof typeof KIND_CODE;
const KIND_OF_CODE: Record<string, ViewKind> = Object.fromEntries(
  Object.entries(KIND_CODE).map(([kind, code]) => [code, kind as ViewKind]),
);

function isViewKind(kind: string): kind is ViewKind {
  return Object.hasOwn(KIND_CODE, kind);
}

// A separator no cluster token, kind code or resource ID contains.
const SEP = "\u001f";

// Joined rather than a template literal: V8 keeps a template literal's result as a rope (a cons
// string) holding its parts, and a Map key is hashed without flattening, so the rope (32 B) and a copy
// of the prefix (24 B) stayed alive per endpoint. `join` writes one flat string.
function resourceKey(cluster: string, kind: ViewKind, id: string): string {
  return [cluster, SEP, KIND_CODE[kind], SEP, id].join("");
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function compareEndpoints(a: EndpointResult, b: EndpointResult): number {
  return byCodePoint(a.display_name, b.display_name) || byCodePoint(a.kind, b.kind);
}

function emptyCounts(): ClusterCounts {
  return { workloadEndpoints: 0, hostEndpoints: 0, profiles: 0, policies: 0, tiers: 0 };
}

/**
 * The merged view of every cluster, queried calicoq-style. Feed it resource events and cluster
 * statuses in any order: it keeps, per resource, only the newest (generation, revision).
 */
export class FederatedView {
  readonly #index = new LabelIndex();
  readonly #endpoints = new Map<string, EndpointRecord>();
  readonly #profiles = new Map<string, ProfileRecord>();
  readonly #policies = new Map<string, PolicyRecord>();
  readonly #tiers = new Map<string, TierRecord>();
  /**
   * Versions of deleted resources, so that a late older upsert cannot bring one back. Insertion order
   * is age order (a key is re-inserted when it dies again), so pruning only looks at the front.
   */
  readonly #tombstones = new Map<string, Tombstone>();
  readonly #tombstoneRetentionMs: number;
  readonly #now: () => number;
  readonly #statuses = new Map<string, ClusterStatus>();
  /** Generation of the last removal per cluster: an older status must not resurrect it. */
  readonly #statusRemovals = new Map<string, number>();
  readonly #counts = new Map<string, ClusterCounts>();
  readonly #strings = new Map<string, string>();
  readonly #profileLists = new Map<string, readonly string[]>();
  readonly #onDrop: FederatedViewOptions["onDrop"];
  #sortedPolicies: CompiledPolicy[] | undefined;
  #tierOrders: Map<string, number | undefined> | undefined;

  constructor(options: FederatedViewOptions = {}) {
    this.#onDrop = options.onDrop;
    this.#tombstoneRetentionMs = options.tombstoneRetentionMs ?? DEFAULT_TOMBSTONE_RETENTION_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Remembers that `key` is gone at `version`, and forgets tombstones past their retention. */
  #bury(key: string, version: Version): void {
    const now = this.#now();
    this.#tombstones.delete(key);
    this.#tombstones.set(key, { generation: version.generation, revision: version.revision, at: now });
    const cutoff = now - this.#tombstoneRetentionMs;
    for (const [oldKey, tombstone] of this.#tombstones) {
      if (tombstone.at >= cutoff) break;
      this.#tombstones.delete(oldKey);
    }
  }

  /** Number of deleted resources whose version is still remembered (metrics, tests). */
  get tombstoneCount(): number {
    return this.#tombstones.size;
  }

  // ---------------------------------------------------------------- applying changes

  /**
   * Applies one resource event. Returns true if it was applied; false if it was dropped: older than
   * what the view holds for that resource, a kind the view does not keep, a policy or tier from a
   * remote cluster, or a resource that fails the model's schema. An event as old as what is held is
   * applied (last writer wins): the state stream keeps one message per subject in publication order,
   * and a connector retracting expired data publishes the delete at the version of the upsert.
   */
  applyResourceEvent(event: ResourceEvent): boolean {
    const { cluster, kind, id } = event;
    if (!isViewKind(kind)) return this.#drop(event, "unknown-kind");
    if ((kind === "NetworkPolicy" || kind === "GlobalNetworkPolicy" || kind === "Tier") && !isLocalCluster(cluster)) {
      return this.#drop(event, "remote-policy");
    }
    const key = resourceKey(cluster, kind, id);
    const held = this.#heldVersion(key, kind);
    if (held !== undefined && compareVersions(event, held) < 0) return this.#drop(event, "stale");
    const version: Version = { generation: event.generation, revision: event.revision };

    if (event.op === "delete") {
      this.#remove(key, kind);
      this.#bury(key, version);
      return true;
    }
    const parsed = isPlainViewResource(kind, event.resource)
      ? { success: true as const, data: event.resource }
      : resourceKindInfo[kind].schema.safeParse(event.resource);
    if (!parsed.success) return this.#drop(event, "invalid", parsed.error.message);
    try {
      switch (kind) {
        case "WorkloadEndpoint":
          if (!this.#upsertWorkloadEndpoint(key, cluster, parsed.data as WorkloadEndpoint, version)) {
            // Held as absent, at this version: an older event with addresses must not bring it back.
            this.#bury(key, version);
            return true;
          }
          break;
        case "HostEndpoint":
          this.#upsertHostEndpoint(key, cluster, parsed.data as HostEndpoint, version);
          break;
        case "Profile":
          this.#upsertProfile(key, cluster, parsed.data as Profile, version);
          break;
        case "NetworkPolicy":
        case "GlobalNetworkPolicy":
          this.#upsertPolicy(key, cluster, parsed.data as NetworkPolicy | GlobalNetworkPolicy, version);
          break;
        case "Tier":
          this.#upsertTier(key, cluster, parsed.data as Tier, version);
          break;
      }
    } catch (err) {
      // A policy with a selector Calico would have rejected: nothing of it can be evaluated.
      this.#remove(key, kind);
      this.#bury(key, version);
      return this.#drop(event, "invalid", err instanceof Error ? err.message : String(err));
    }
    this.#tombstones.delete(key);
    return true;
  }

  /**
   * Applies a cluster status or its removal. A message of an older generation than the one held is
   * dropped (returns false); a removal forgets the status (resources are retracted by their own deletes).
   */
  applyClusterStatus(message: ClusterStatusMessage): boolean {
    const held = this.#statuses.get(message.cluster);
    const removedAt = this.#statusRemovals.get(message.cluster);
    if (held !== undefined && message.generation < held.generation) return false;
    if (removedAt !== undefined && message.generation < removedAt) return false;
    if (message.op === "delete") {
      this.#statuses.delete(message.cluster);
      this.#statusRemovals.set(message.cluster, message.generation);
      return true;
    }
    this.#statuses.set(message.cluster, message);
    return true;
  }

  /** Forgets a cluster's status, as an RCC deletion does. Returns whether one was held. */
  removeClusterStatus(cluster: string): boolean {
    return this.#statuses.delete(cluster);
  }

  #drop(event: ResourceEvent, reason: DropReason, detail?: string): false {
    this.#onDrop?.(event, reason, detail);
    return false;
  }

  #heldVersion(key: string, kind: ViewKind): Version | undefined {
    switch (kind) {
      case "WorkloadEndpoint":
      case "HostEndpoint":
        return this.#endpoints.get(key) ?? this.#tombstones.get(key);
      case "Profile":
        return this.#profiles.get(key) ?? this.#tombstones.get(key);
      case "NetworkPolicy":
      case "GlobalNetworkPolicy":
        return this.#policies.get(key) ?? this.#tombstones.get(key);
      case "Tier":
        return this.#tiers.get(key) ?? this.#tombstones.get(key);
    }
  }

  #countsOf(cluster: string): ClusterCounts {
    let counts = this.#counts.get(cluster);
    if (counts === undefined) {
      counts = emptyCounts();
      this.#counts.set(cluster, counts);
    }
    return counts;
  }

  #intern(value: string): string {
    const held = this.#strings.get(value);
    if (held !== undefined) return held;
    this.#strings.set(value, value);
    return value;
  }

  /** Endpoints of one namespace mostly share one profile list; keep one array for all of them. */
  #internProfiles(profiles: readonly string[] | undefined): readonly string[] {
    if (profiles === undefined || profiles.length === 0) return EMPTY;
    const joined = profiles.join("\n");
    const held = this.#profileLists.get(joined);
    if (held !== undefined) return held;
    const list = Object.freeze(profiles.map((p) => this.#intern(p)));
    this.#profileLists.set(joined, list);
    return list;
  }

  /** Returns false when the endpoint is not kept (no addresses: Calico ignores it). */
  #upsertWorkloadEndpoint(key: string, cluster: string, wep: WorkloadEndpoint, version: Version): boolean {
    if (!wep.spec.ipNetworks || wep.spec.ipNetworks.length === 0) {
      this.#removeEndpoint(key);
      return false;
    }
    const identity = workloadEndpointIdentity(wep, cluster);
    this.#putEndpoint(
      {
        key,
        cluster: this.#intern(cluster),
        kind: ENDPOINT_KINDS.workload,
        host: this.#intern(identity.host),
        orchestrator: this.#intern(identity.orchestrator),
        workload: identity.workload,
        name: this.#intern(identity.endpoint),
        display: unusualDisplay(
          workloadEndpointDisplayName(wep, cluster),
          ENDPOINT_KINDS.workload,
          identity.host,
          identity.orchestrator,
          identity.workload,
          identity.endpoint,
        ),
        profiles: this.#internProfiles(wep.spec.profiles),
        generation: version.generation,
        revision: version.revision,
      },
      workloadEndpointOwnLabels(wep),
    );
    return true;
  }

  #upsertHostEndpoint(key: string, cluster: string, hep: HostEndpoint, version: Version): void {
    const identity = hostEndpointIdentity(hep, cluster);
    this.#putEndpoint(
      {
        key,
        cluster: this.#intern(cluster),
        kind: ENDPOINT_KINDS.host,
        host: this.#intern(identity.host),
        orchestrator: "",
        workload: "",
        name: identity.name,
        display: unusualDisplay(
          hostEndpointDisplayName(hep, cluster),
          ENDPOINT_KINDS.host,
          identity.host,
          "",
          "",
          identity.name,
        ),
        profiles: this.#internProfiles(hep.spec.profiles),
        generation: version.generation,
        revision: version.revision,
      },
      hostEndpointOwnLabels(hep),
    );
  }

  #putEndpoint(record: EndpointRecord, labels: Record<string, string>): void {
    const previous = this.#endpoints.get(record.key);
    if (previous === undefined) {
      const counts = this.#countsOf(record.cluster);
      if (record.kind === ENDPOINT_KINDS.workload) counts.workloadEndpoints++;
      else counts.hostEndpoints++;
    }
    // The record goes in before the index changes: watches read it when a match starts.
    this.#endpoints.set(record.key, record);
    this.#index.upsertItem(record.key, labels, record.profiles);
  }

  #removeEndpoint(key: string): void {
    const record = this.#endpoints.get(key);
    if (record === undefined) return;
    // The index goes first: watches still find the record when the match stops.
    this.#index.removeItem(key);
    this.#endpoints.delete(key);
    const counts = this.#countsOf(record.cluster);
    if (record.kind === ENDPOINT_KINDS.workload) counts.workloadEndpoints--;
    else counts.hostEndpoints--;
  }

  #upsertProfile(key: string, cluster: string, profile: Profile, version: Version): void {
    const previous = this.#profiles.get(key);
    const name = this.#intern(profile.metadata.name);
    if (previous === undefined) this.#countsOf(cluster).profiles++;
    else if (previous.name !== name) this.#index.removeParent(previous.name);
    this.#profiles.set(key, { cluster, name, generation: version.generation, revision: version.revision });
    this.#index.upsertParent(name, profileLabels(profile));
  }

  #upsertPolicy(key: string, cluster: string, policy: NetworkPolicy | GlobalNetworkPolicy, version: Version): void {
    const compiled = compilePolicy(policy);
    if (!this.#policies.has(key)) this.#countsOf(cluster).policies++;
    this.#policies.set(key, { policy: compiled, generation: version.generation, revision: version.revision });
    this.#sortedPolicies = undefined;
  }

  #upsertTier(key: string, cluster: string, tier: Tier, version: Version): void {
    if (!this.#tiers.has(key)) this.#countsOf(cluster).tiers++;
    this.#tiers.set(key, {
      name: tier.metadata.name,
      order: tier.spec.order,
      generation: version.generation,
      revision: version.revision,
    });
    this.#sortedPolicies = undefined;
    this.#tierOrders = undefined;
  }

  #remove(key: string, kind: ViewKind): void {
    switch (kind) {
      case "WorkloadEndpoint":
      case "HostEndpoint":
        this.#removeEndpoint(key);
        return;
      case "Profile": {
        const record = this.#profiles.get(key);
        if (record === undefined) return;
        this.#profiles.delete(key);
        this.#index.removeParent(record.name);
        this.#countsOf(record.cluster).profiles--;
        return;
      }
      case "NetworkPolicy":
      case "GlobalNetworkPolicy":
        if (this.#policies.delete(key)) {
          this.#countsOf(LOCAL_CLUSTER).policies--;
          this.#sortedPolicies = undefined;
        }
        return;
      case "Tier":
        if (this.#tiers.delete(key)) {
          this.#countsOf(LOCAL_CLUSTER).tiers--;
          this.#sortedPolicies = undefined;
          this.#tierOrders = undefined;
        }
        return;
    }
  }

  // ---------------------------------------------------------------- policies

  #tierOrderMap(): Map<string, number | undefined> {
    if (this.#tierOrders === undefined) {
      this.#tierOrders = new Map();
      for (const tier of this.#tiers.values()) this.#tierOrders.set(tier.name, tier.order);
    }
    return this.#tierOrders;
  }

  /** Every local policy in calicoq's order. */
  #orderedPolicies(): CompiledPolicy[] {
    if (this.#sortedPolicies === undefined) {
      const tiers = this.#tierOrderMap();
      this.#sortedPolicies = [...this.#policies.values()]
        .map((r) => r.policy)
        .sort((a, b) => comparePolicies(a, b, tiers));
    }
    return this.#sortedPolicies;
  }

  #findPolicy(input: string): CompiledPolicy | undefined {
    const qualified = qualifyPolicyName(input);
    const slash = input.indexOf("/");
    const typed = slash >= 0 ? input.slice(slash + 1) : input;
    // Calico stores default-tier policies with or without the `default.` prefix; accept both.
    const candidates = new Set([qualified.name, typed]);
    if (qualified.name.startsWith("default.")) candidates.add(qualified.name.slice("default.".length));
    for (const name of candidates) {
      const key =
        qualified.namespace === undefined
          ? resourceKey(LOCAL_CLUSTER, "GlobalNetworkPolicy", name)
          : resourceKey(LOCAL_CLUSTER, "NetworkPolicy", `${qualified.namespace}/${name}`);
      const record = this.#policies.get(key);
      if (record !== undefined) return record.policy;
    }
    return undefined;
  }

  #policyRef(policy: CompiledPolicy, options: QueryOptions): PolicyRef {
    const ref: PolicyRef = { name: policy.name, tier_name: policy.tier };
    if (policy.order !== undefined) ref.order = policy.order;
    if (!options.hideSelectors) ref.selector = policy.appliesTo.text;
    const tierOrder = effectiveTierOrder(policy.tier, this.#tierOrderMap());
    if (tierOrder !== undefined) ref.tier_order = tierOrder;
    if (policy.untracked) ref.untracked = true;
    return ref;
  }

  // ---------------------------------------------------------------- queries

  /**
   * The endpoint result with the identity fields only. Its names are flat strings: sorting and
   * JSON-encoding thousands of ropes or slices cost several times more than the same flat text.
   */
  #describe(record: EndpointRecord): EndpointResult {
    let display: string;
    let short: string;
    if (record.display !== undefined) {
      display = record.display;
      short = display.slice(record.host.length + 1);
    } else {
      short = derivedShortName(record.kind, record.orchestrator, record.workload, record.name);
      display = [record.host, "/", short].join("");
    }
    const result: EndpointResult = {
      node: record.host,
      kind: record.kind,
      display_name: display,
      short_name: short,
      cluster: record.cluster,
    };
    if (record.kind === ENDPOINT_KINDS.workload) {
      if (record.orchestrator !== "") result.orchestrator = record.orchestrator;
      result.workload = record.workload;
    }
    if (record.name !== "") result.name = record.name;
    if (!isLocalCluster(record.cluster)) result.remote_cluster = record.cluster;
    return result;
  }

  #records(ids: Iterable<string>): EndpointRecord[] {
    const records: EndpointRecord[] = [];
    for (const id of ids) {
      const record = this.#endpoints.get(id);
      if (record !== undefined) records.push(record);
    }
    return records;
  }

  /**
   * `calicoq eval`: every endpoint (local and remote) whose effective labels match the selector,
   * sorted by display name. Throws `SelectorParseError` on a bad selector.
   */
  eval(selectorText: string): EvalResult {
    const selector = parseSelector(selectorText);
    const endpoints = this.#records(this.#index.query(selector, { sorted: false })).map((r) => this.#describe(r));
    return {
      description: `Endpoints matching selector ${selectorText}`,
      endpoints: endpoints.sort(compareEndpoints),
      selector: selectorText,
    };
  }

  /**
   * `calicoq policy`: the local endpoints the policy applies to and, unless `hideRuleMatches`, the
   * endpoints (local and remote) its rule selectors match. Null when no such policy exists.
   */
  policy(name: string, options: QueryOptions = {}): PolicyResult | null {
    const policy = this.#findPolicy(name);
    if (policy === undefined) return null;
    const appliesTo = this.#records(this.#index.query(policy.appliesTo.selector, { sorted: false }))
      .filter((r) => isLocalCluster(r.cluster))
      .map((r) => {
        const result = this.#describe(r);
        if (!options.hideSelectors) result.selector = policy.appliesTo.text;
        return result;
      })
      .sort(compareEndpoints);

    const matched = new Map<string, EndpointResult>();
    if (!options.hideRuleMatches) {
      for (const rule of policy.rules) {
        for (const record of this.#records(this.#index.query(rule.selector, { sorted: false }))) {
          let result = matched.get(record.key);
          if (result === undefined) {
            result = this.#describe(record);
            result.rule_matches = [];
            matched.set(record.key, result);
          }
          result.rule_matches!.push(this.#ruleMatch(policy, rule, options));
        }
      }
    }
    const identity: PolicyResult["policy"] = { kind: policy.kind, name: policy.name, tier_name: policy.tier };
    if (policy.namespace !== undefined) identity.namespace = policy.namespace;
    return {
      description: `Policy "${policy.name}" applies to these endpoints`,
      policy_applies_to_endpoints: appliesTo,
      endpoints_match_policy: [...matched.values()].sort(compareEndpoints),
      policy: identity,
    };
  }

  #ruleMatch(policy: CompiledPolicy, rule: CompiledPolicy["rules"][number], options: QueryOptions): RuleMatch {
    const match: RuleMatch = {
      policy_name: policy.name,
      tier_name: policy.tier,
      direction: rule.direction,
      selector_type: rule.type,
      order: rule.index,
    };
    if (!options.hideSelectors) match.selector = rule.text;
    return match;
  }

  /** The policies, profiles and rule matches of one endpoint (`endpoint` / `host`). */
  #report(record: EndpointRecord, options: QueryOptions): EndpointResult {
    const result = this.#describe(record);
    const policies: PolicyRef[] = [];
    const ruleMatches: RuleMatch[] = [];
    const local = isLocalCluster(record.cluster);
    const labels = this.#index.effectiveLabels(record.key) ?? new Map<string, string>();
    const matches = (selector: Selector) => selector.matches(labels);
    for (const policy of this.#orderedPolicies()) {
      // Local policies apply to local endpoints only; their rules may select remote ones too.
      if (local && matches(policy.appliesTo.selector)) policies.push(this.#policyRef(policy, options));
      if (options.hideRuleMatches) continue;
      for (const rule of policy.rules) {
        if (matches(rule.selector)) ruleMatches.push(this.#ruleMatch(policy, rule, options));
      }
    }
    if (policies.length > 0) result.policies = policies;
    if (record.profiles.length > 0) result.profiles = record.profiles.map((name) => ({ name }));
    if (ruleMatches.length > 0) result.rule_matches = ruleMatches;
    return result;
  }

  /**
   * `calicoq endpoint`: every endpoint whose calicoq line (`Workload endpoint <host>/<orch>/<ns>.<pod>/<ep>`
   * or `Host endpoint <host>/<name>`) contains the substring, with its policies, profiles and rule matches.
   */
  endpoint(substring: string, options: QueryOptions = {}): EndpointsResult {
    const endpoints: EndpointResult[] = [];
    for (const record of this.#endpoints.values()) {
      const line = `${record.kind === ENDPOINT_KINDS.workload ? "Workload" : "Host"} endpoint ${displayOf(record)}`;
      if (line.includes(substring)) endpoints.push(this.#report(record, options));
    }
    return {
      description: `Policies and profiles for endpoints matching "${substring}"`,
      endpoints: endpoints.sort(compareEndpoints),
      substring,
    };
  }

  /**
   * `calicoq host`: every endpoint on the host (`<cluster>/<node>` for a remote node). A pass over
   * every record (milliseconds at a million) rather than a per-host set, which cost every endpoint
   * a hash-table entry and every upsert a set insertion.
   */
  host(hostname: string, options: QueryOptions = {}): EndpointsResult {
    const endpoints: EndpointResult[] = [];
    for (const record of this.#endpoints.values()) {
      if (record.host === hostname) endpoints.push(this.#report(record, options));
    }
    return {
      description: `Policies and profiles for each endpoint on host "${hostname}"`,
      endpoints: endpoints.sort(compareEndpoints),
      hostname,
    };
  }

  /**
   * Watches a selector's matches: `cb` gets `start` for every endpoint matching now and every one
   * that starts matching, and `stop` (with the endpoint as it was) when one stops or goes away.
   * Throws `SelectorParseError` on a bad selector.
   */
  watch(selectorText: string, cb: (event: WatchEvent) => void): ViewWatch {
    const selector = parseSelector(selectorText);
    const started = new Map<string, EndpointResult>();
    // The index reports the current matches while `watch` runs; they are sent sorted, after it returns.
    let initial: string[] | undefined = [];
    const start = (id: string) => {
      const record = this.#endpoints.get(id);
      if (record === undefined) return;
      const endpoint = this.#describe(record);
      started.set(id, endpoint);
      cb({ type: "start", endpoint });
    };
    const watch = this.#index.watch(selector, (event) => {
      if (event.kind === "match-started") {
        if (initial !== undefined) initial.push(event.id);
        else start(event.id);
        return;
      }
      const endpoint = started.get(event.id);
      if (endpoint === undefined) return;
      started.delete(event.id);
      cb({ type: "stop", endpoint });
    });
    const current = this.#records(initial).map((r) => ({ key: r.key, endpoint: this.#describe(r) }));
    initial = undefined;
    for (const { key, endpoint } of current.sort((a, b) => compareEndpoints(a.endpoint, b.endpoint))) {
      started.set(key, endpoint);
      cb({ type: "start", endpoint });
    }
    const close = () => {
      watch.close();
      started.clear();
    };
    return { close, [Symbol.dispose]: close };
  }

  /** Remote clusters that are not `InSync` (their data may be incomplete or stale), by name. */
  problems(): ClusterProblem[] {
    const problems: ClusterProblem[] = [];
    for (const status of this.#statuses.values()) {
      if (isLocalCluster(status.cluster) || status.status === "InSync") continue;
      const problem: ClusterProblem = {
        cluster: status.cluster,
        status: status.status,
        since: status.since,
        stale: status.stale,
      };
      if (status.error !== undefined) problem.error = status.error;
      if (status.staleSince !== undefined) problem.staleSince = status.staleSince;
      problems.push(problem);
    }
    return problems.sort((a, b) => byCodePoint(a.cluster, b.cluster));
  }

  /** One row per cluster known by status or by data held: local first, then by name. */
  status(): ClusterStatusRow[] {
    const clusters = new Set([...this.#statuses.keys(), ...this.#counts.keys()]);
    const rows: ClusterStatusRow[] = [];
    for (const cluster of clusters) {
      const counts = this.#counts.get(cluster) ?? emptyCounts();
      const status = this.#statuses.get(cluster);
      if (status === undefined && Object.values(counts).every((n) => n === 0)) continue;
      const row: ClusterStatusRow = {
        cluster,
        local: isLocalCluster(cluster),
        workloadEndpoints: counts.workloadEndpoints,
        hostEndpoints: counts.hostEndpoints,
        profiles: counts.profiles,
        policies: counts.policies,
        stale: status?.stale ?? false,
      };
      if (status !== undefined) {
        row.status = status.status;
        row.since = status.since;
        row.generation = status.generation;
        row.reportedCounts = { ...status.counts };
        if (status.error !== undefined) row.error = status.error;
        if (status.staleSince !== undefined) row.staleSince = status.staleSince;
        if (status.lastSync !== undefined) row.lastSync = status.lastSync;
        if (status.expiresAt !== undefined) row.expiresAt = status.expiresAt;
      }
      rows.push(row);
    }
    return rows.sort((a, b) => (a.local !== b.local ? (a.local ? -1 : 1) : byCodePoint(a.cluster, b.cluster)));
  }

  /**
   * Every resource the view holds (deleted ones excluded) with its (generation, revision), sorted by
   * cluster, kind and id: the `inventory` verb, for comparing the view with a datastore. Optionally of
   * one cluster, and only the items after `after` (a key this method returned as `key`).
   */
  inventory(options: { cluster?: string; after?: string; limit?: number } = {}): {
    items: { key: string; cluster: string; kind: string; id: string; revision: string; generation: number }[];
    more: boolean;
  } {
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    const keys: string[] = [];
    const stamps = new Map<string, Version>();
    const add = (key: string, version: Version): void => {
      if (options.cluster !== undefined && !key.startsWith(`${options.cluster}${SEP}`)) return;
      if (options.after !== undefined && key <= options.after) return;
      keys.push(key);
      stamps.set(key, version);
    };
    for (const [key, record] of this.#endpoints) add(key, record);
    for (const [key, record] of this.#profiles) add(key, record);
    for (const [key, record] of this.#policies) add(key, record);
    for (const [key, record] of this.#tiers) add(key, record);
    keys.sort(byCodePoint);
    const page = keys.slice(0, Math.min(keys.length, limit));
    const items = page.map((key) => {
      const [cluster, code, id] = key.split(SEP) as [string, string, string];
      const { generation, revision } = stamps.get(key)!;
      return { key, cluster, kind: KIND_OF_CODE[code]!, id, revision, generation };
    });
    return { items, more: page.length < keys.length };
  }

  /** What the view holds, per cluster and kind (metrics). */
  sizes(): ViewSize[] {
    const sizes: ViewSize[] = [];
    for (const [cluster, c] of this.#counts) {
      sizes.push({ cluster, kind: "WorkloadEndpoint", count: c.workloadEndpoints });
      sizes.push({ cluster, kind: "HostEndpoint", count: c.hostEndpoints });
      sizes.push({ cluster, kind: "Profile", count: c.profiles });
      if (isLocalCluster(cluster)) {
        sizes.push({ cluster, kind: "NetworkPolicy", count: c.policies });
        sizes.push({ cluster, kind: "Tier", count: c.tiers });
      }
    }
    return sizes;
  }

  /** Number of endpoints held, all clusters. */
  get endpointCount(): number {
    return this.#endpoints.size;
  }
}

const EMPTY: readonly string[] = Object.freeze([]);

/** The display name rebuilt from an endpoint's fields, as the model builds it in the usual case. */
function derivedDisplay(
  kind: EndpointKind,
  host: string,
  orchestrator: string,
  workload: string,
  name: string,
): string {
  return [host, "/", derivedShortName(kind, orchestrator, workload, name)].join("");
}

/** The display name without `<host>/`, as one flat string. */
function derivedShortName(kind: EndpointKind, orchestrator: string, workload: string, name: string): string {
  return kind === ENDPOINT_KINDS.workload
    ? [orchestrator, "/", workload.replaceAll("/", "."), "/", name].join("")
    : name;
}

/** The model's display name, kept only when the fields do not rebuild it exactly. */
function unusualDisplay(
  display: string,
  kind: EndpointKind,
  host: string,
  orchestrator: string,
  workload: string,
  name: string,
): string | undefined {
  return display === derivedDisplay(kind, host, orchestrator, workload, name) ? undefined : display;
}

/** An endpoint's calicoq display name. */
function displayOf(record: EndpointRecord): string {
  return record.display ?? derivedDisplay(record.kind, record.host, record.orchestrator, record.workload, record.name);
}
