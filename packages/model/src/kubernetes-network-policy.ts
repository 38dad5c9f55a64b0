/**
 * Kubernetes NetworkPolicy (`networking.k8s.io/v1`) → Calico NetworkPolicy, as Calico's Kubernetes
 * datastore shows it to Felix and calicoq (libcalico-go's `K8sNetworkPolicyToCalico`): named
 * `knp.default.<name>` in the policy's namespace, tier `default`, order 1000, applied to the pods of
 * `spec.podSelector`, with Allow rules built from each ingress/egress rule's peers and ports.
 *
 * Selector text is written here, not with `@fedview/selector` (model sits below it): Calico's own
 * wording (`projectcalico.org/orchestrator == 'k8s' && app == 'web'`, `k in { 'a', 'b' }`,
 * `! has(k)`), with a value quoted in `"` only when it holds a `'`, which Calico's text cannot.
 *
 * Written from libcalico-go's conversion as remembered, not checked against a live cluster; where
 * Calico's exact output is uncertain:
 * - rule expansion: one Calico rule per protocol (sorted) × peer, each protocol's ports merged by
 *   `SimplifyPorts` (adjacent ranges joined). Older releases wrote one rule per port × peer; calicoq's
 *   rule numbers (`inbound rule N`) depend on this;
 * - `types` without `policyTypes`: Calico alone says `[Ingress]`; here the API server's defaulting
 *   (Ingress, plus Egress with egress rules) is applied first, which is what Calico sees from a real
 *   API server;
 * - `spec.tier: default` is written out (older releases leave it empty and default it on read);
 *   labels and annotations are not carried; the uid is carried unchanged (newer releases may derive
 *   another one);
 * - empty `source: {}` / `destination: {}` are written, as Go's JSON of the v3 rule does;
 * - where Calico would write a selector Felix rejects (a quote or line break in a value, a key
 *   outside the selector's alphabet) this throws `KddConversionError`; `In`/`NotIn` without values
 *   and unknown operators fail the schema instead of yielding `k in { '' }` or a dropped term.
 */
import { z } from "zod";
import { CALICO_API_VERSION } from "./calico-v3.js";
import { KddConversionError } from "./errors.js";
import { canonicalIPNetwork } from "./ip.js";
import { carriedMeta, KubernetesObjectMetaSchema, OptionalStringMapSchema } from "./kdd.js";
import { LABEL_ORCHESTRATOR, ORCHESTRATOR_KUBERNETES } from "./labels.js";
import { DEFAULT_TIER, KUBERNETES_NETWORK_POLICY_PREFIX } from "./policy.js";
import type {
  EntityRule,
  KubernetesLabelSelector,
  KubernetesNetworkPolicy,
  NetworkPolicy,
  PolicyType,
  Rule,
} from "./types.js";

/** The apiVersion of Kubernetes NetworkPolicies. */
export const KUBERNETES_NETWORK_POLICY_API_VERSION = "networking.k8s.io/v1";

/** The `order` Calico gives every converted Kubernetes NetworkPolicy. */
export const KUBERNETES_NETWORK_POLICY_ORDER = 1000;

/** One `matchExpressions` term of a Kubernetes label selector. */
export const KubernetesLabelSelectorRequirementSchema = z
  .looseObject({
    key: z.string().min(1),
    operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
    values: z.array(z.string()).nullish(),
  })
  .superRefine((term, ctx) => {
    // The API server enforces both; a term that breaks them has no meaning Calico could give it.
    const count = term.values?.length ?? 0;
    if ((term.operator === "In" || term.operator === "NotIn") && count === 0) {
      ctx.addIssue({ code: "custom", path: ["values"], message: `operator ${term.operator} needs at least one value` });
    }
    if ((term.operator === "Exists" || term.operator === "DoesNotExist") && count > 0) {
      ctx.addIssue({ code: "custom", path: ["values"], message: `operator ${term.operator} takes no values` });
    }
  });

/** A Kubernetes `metav1.LabelSelector`: every matchLabels pair and every expression must hold. */
export const KubernetesLabelSelectorSchema = z.looseObject({
  matchLabels: OptionalStringMapSchema,
  matchExpressions: z.array(KubernetesLabelSelectorRequirementSchema).nullish(),
});

/** A peer of a rule: pods (in namespaces), or an IP block. */
const NetworkPolicyPeerSchema = z.looseObject({
  podSelector: KubernetesLabelSelectorSchema.nullish(),
  namespaceSelector: KubernetesLabelSelectorSchema.nullish(),
  ipBlock: z.looseObject({ cidr: z.string(), except: z.array(z.string()).nullish() }).nullish(),
});

/** A port of a rule: a number or a named port, optionally up to `endPort`; TCP unless said otherwise. */
const NetworkPolicyPortSchema = z.looseObject({
  protocol: z.string().nullish(),
  port: z.union([z.number().int(), z.string()]).nullish(),
  endPort: z.number().int().nullish(),
});

/** `spec` of a Kubernetes NetworkPolicy. */
export const KubernetesNetworkPolicySpecSchema = z.looseObject({
  podSelector: KubernetesLabelSelectorSchema.nullish(),
  policyTypes: z.array(z.enum(["Ingress", "Egress"])).nullish(),
  ingress: z
    .array(
      z.looseObject({
        from: z.array(NetworkPolicyPeerSchema).nullish(),
        // `@kubernetes/client-node`'s typed objects carry `from` as `_from`.
        _from: z.array(NetworkPolicyPeerSchema).nullish(),
        ports: z.array(NetworkPolicyPortSchema).nullish(),
      }),
    )
    .nullish(),
  egress: z
    .array(
      z.looseObject({
        to: z.array(NetworkPolicyPeerSchema).nullish(),
        ports: z.array(NetworkPolicyPortSchema).nullish(),
      }),
    )
    .nullish(),
});

/**
 * The Kubernetes NetworkPolicy fields the conversion reads (others kept). `kind` and `apiVersion`
 * are absent on list items; `@kubernetes/client-node`'s typed objects have `Date` timestamps,
 * `undefined` for absent fields, and an ingress rule's `from` under `_from`.
 */
export const KubernetesNetworkPolicySchema = z.looseObject({
  apiVersion: z.literal(KUBERNETES_NETWORK_POLICY_API_VERSION).optional(),
  kind: z.literal("NetworkPolicy").optional(),
  metadata: KubernetesObjectMetaSchema.extend({ namespace: z.string().min(1) }),
  spec: KubernetesNetworkPolicySpecSchema.prefault({}),
});

type Peer = z.infer<typeof NetworkPolicyPeerSchema>;
type Port = z.infer<typeof NetworkPolicyPortSchema>;

/** The name Calico gives a Kubernetes NetworkPolicy: `knp.default.<name>`. */
export function kubernetesNetworkPolicyName(name: string): string {
  return `${KUBERNETES_NETWORK_POLICY_PREFIX}${name}`;
}

// ---- selector text ------------------------------------------------------------------------------

/** Characters of a label key in Calico's selector language. */
const SELECTOR_LABEL_KEY = /^[A-Za-z0-9_./-]{1,512}$/;

function selectorKey(key: string, where: string): string {
  if (!SELECTOR_LABEL_KEY.test(key)) {
    throw new KddConversionError(`${where}: label key ${JSON.stringify(key)} cannot be written in a Calico selector`);
  }
  return key;
}

/** A selector string literal: `'v'` as Calico writes it, `"v"` for a value holding `'`. */
function selectorString(value: string, where: string): string {
  if (/[\r\n]/.test(value) || (value.includes("'") && value.includes('"'))) {
    throw new KddConversionError(
      `${where}: label value ${JSON.stringify(value)} cannot be written in a Calico selector`,
    );
  }
  return value.includes("'") ? `"${value}"` : `'${value}'`;
}

const byCodePoint = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A Kubernetes label selector as Calico selector text. A pod selector always starts with
 * `projectcalico.org/orchestrator == 'k8s'` (an absent one is just that); an absent namespace
 * selector is `""` (no namespace scope) and an empty one `all()` (every namespace). matchLabels come
 * in key order, then the expressions in their order, joined with ` && `.
 */
function selectorText(
  selector: KubernetesLabelSelector | null | undefined,
  scope: "pod" | "namespace",
  where: string,
): string {
  const terms = scope === "pod" ? [`${LABEL_ORCHESTRATOR} == '${ORCHESTRATOR_KUBERNETES}'`] : [];
  if (selector === null || selector === undefined) return terms.join(" && ");
  const labels = selector.matchLabels ?? {};
  const expressions = selector.matchExpressions ?? [];
  if (scope === "namespace" && Object.keys(labels).length === 0 && expressions.length === 0) return "all()";
  for (const key of Object.keys(labels).sort(byCodePoint)) {
    terms.push(`${selectorKey(key, where)} == ${selectorString(labels[key] ?? "", where)}`);
  }
  for (const term of expressions) {
    const key = selectorKey(term.key, where);
    const set = () => `{ ${(term.values ?? []).map((v) => selectorString(v, where)).join(", ")} }`;
    switch (term.operator) {
      case "In":
        terms.push(`${key} in ${set()}`);
        break;
      case "NotIn":
        terms.push(`${key} not in ${set()}`);
        break;
      case "Exists":
        terms.push(`has(${key})`);
        break;
      case "DoesNotExist":
        terms.push(`! has(${key})`);
        break;
    }
  }
  return terms.join(" && ");
}

// ---- ports --------------------------------------------------------------------------------------

/** A Calico port: a named port, or a range (a single port has min === max). */
type CalicoPort = { name: string } | { min: number; max: number };

const MAX_PORT = 65535;

/**
 * A Kubernetes port (and endPort) as Calico's `numorstring.PortFromString` reads `"<port>[:<end>]"`;
 * null when it is not a port.
 */
function calicoPort(port: number | string, endPort: number | null | undefined): CalicoPort | null {
  // A number is never a port name, whatever its text.
  if (typeof port === "number" && (port < 0 || port > MAX_PORT)) return null;
  const text = endPort === null || endPort === undefined ? String(port) : `${port}:${endPort}`;
  if (/^\d+$/.test(text)) {
    const value = Number(text);
    return value <= MAX_PORT ? { min: value, max: value } : null;
  }
  const parts = text.split(":");
  if (parts.length === 2) {
    const [min, max] = parts.map((p) => (/^\d+$/.test(p) ? Number(p) : Number.NaN)) as [number, number];
    return min <= max && max <= MAX_PORT ? { min, max } : null;
  }
  return text === "" || parts.length > 2 ? null : { name: text };
}

/**
 * The fewest ranges covering `ports` (Calico's `SimplifyPorts`): named ports first, as given, then
 * numeric ranges by start, overlapping or adjacent ones merged.
 */
function simplifyPorts(ports: CalicoPort[]): CalicoPort[] {
  if (ports.length <= 1) return ports;
  const named = ports.filter((p) => "name" in p);
  const ranges = ports.filter((p): p is { min: number; max: number } => !("name" in p)).sort((a, b) => a.min - b.min);
  const merged: { min: number; max: number }[] = [];
  for (const range of ranges) {
    const last = merged.at(-1);
    if (last !== undefined && range.min <= last.max + 1) last.max = Math.max(last.max, range.max);
    else merged.push({ ...range });
  }
  return [...named, ...merged];
}

/** A Calico port as v3 JSON writes it: a number, `"min:max"`, or the port's name. */
function portValue(port: CalicoPort): number | string {
  if ("name" in port) return port.name;
  return port.min === port.max ? port.min : `${port.min}:${port.max}`;
}

/** A protocol as `numorstring.ProtocolFromString` reads it: a number when it is one. */
function protocolValue(text: string): number | string {
  return /^\d+$/.test(text) && Number(text) <= 255 ? Number(text) : text;
}

/**
 * The ports of one Kubernetes rule grouped by protocol (Calico: one Calico rule per protocol), in
 * protocol order; `null` ports mean every port. No ports at all is one group without a protocol.
 * Null when a port is not one (the whole Kubernetes rule is then dropped, as Calico does).
 */
function portsByProtocol(ports: readonly Port[]): [string, CalicoPort[] | null][] | null {
  if (ports.length === 0) return [["", null]];
  const groups = new Map<string, CalicoPort[] | null>();
  for (const port of ports) {
    // TCP is Kubernetes' default; Calico needs the protocol of a port match spelled out.
    const protocol = port.protocol || "TCP";
    let calico: CalicoPort | null = null;
    if (port.port !== null && port.port !== undefined) {
      calico = calicoPort(port.port, port.endPort);
      if (calico === null) return null;
    }
    const group = groups.get(protocol);
    // A port entry without a port allows every port of its protocol, whatever else is listed.
    if (calico === null) groups.set(protocol, null);
    else if (group === undefined) groups.set(protocol, [calico]);
    else if (group !== null) group.push(calico);
  }
  return [...groups.entries()].sort(([a], [b]) => byCodePoint(a, b));
}

// ---- rules --------------------------------------------------------------------------------------

/** A peer as the fields of a Calico entity rule; null when its IP block does not parse. */
function peerEntity(peer: Peer | null, where: string): EntityRule | null {
  const entity: EntityRule = {};
  if (peer === null) return entity;
  if (peer.ipBlock !== null && peer.ipBlock !== undefined) {
    // An IP block excludes selectors (the API server enforces it); Calico looks at nothing else.
    const cidr = (text: string) => (text.includes("/") ? canonicalIPNetwork(text) : null);
    const net = cidr(peer.ipBlock.cidr);
    const except = (peer.ipBlock.except ?? []).map(cidr);
    if (net === null || except.some((n) => n === null)) return null;
    entity.nets = [net];
    if (except.length > 0) entity.notNets = except as string[];
    return entity;
  }
  entity.selector = selectorText(peer.podSelector, "pod", where);
  const namespaceSelector = selectorText(peer.namespaceSelector, "namespace", where);
  if (namespaceSelector !== "") entity.namespaceSelector = namespaceSelector;
  return entity;
}

/**
 * One Kubernetes rule as Calico rules: one per protocol and peer, in that order. Null when a port or
 * an IP block does not parse: Calico drops such a rule and keeps the rest of the policy.
 */
function convertRule(
  peers: readonly Peer[],
  ports: readonly Port[],
  direction: "ingress" | "egress",
  where: string,
): Rule[] | null {
  const groups = portsByProtocol(ports);
  if (groups === null) return null;
  const rules: Rule[] = [];
  for (const [protocol, calicoPorts] of groups) {
    const portMatch: EntityRule = calicoPorts === null ? {} : { ports: simplifyPorts(calicoPorts).map(portValue) };
    for (const peer of peers.length > 0 ? peers : [null]) {
      const entity = peerEntity(peer, where);
      if (entity === null) return null;
      const rule: Rule = { action: "Allow" };
      if (protocol !== "") rule.protocol = protocolValue(protocol);
      if (direction === "ingress") {
        rule.source = entity;
        rule.destination = { ...portMatch };
      } else {
        rule.source = {};
        rule.destination = { ...portMatch, ...entity };
      }
      rules.push(rule);
    }
  }
  return rules;
}

function convertRules(
  rules: readonly { peers: readonly Peer[]; ports: readonly Port[] }[],
  direction: "ingress" | "egress",
  where: string,
): Rule[] {
  const out: Rule[] = [];
  rules.forEach((rule, i) => {
    const converted = convertRule(rule.peers, rule.ports, direction, `${where} ${direction} rule ${i + 1}`);
    if (converted !== null) out.push(...converted);
  });
  return out;
}

/**
 * Converts a Kubernetes NetworkPolicy to the Calico NetworkPolicy `knp.default.<name>` Calico's
 * Kubernetes datastore derives from it:
 * - namespace kept; uid, resourceVersion and creation time carried; tier `default`, order 1000;
 * - `selector` from `spec.podSelector`, always within `projectcalico.org/orchestrator == 'k8s'`;
 * - `types` from `policyTypes`; without them, as the API server defaults them, `Ingress` plus
 *   `Egress` when the policy has egress rules;
 * - each ingress/egress rule becomes Allow rules, one per protocol (ports default to TCP, ranges
 *   merged) and per peer: podSelector → `selector`, namespaceSelector → `namespaceSelector` (empty →
 *   `all()`), ipBlock → `nets`/`notNets`; a rule without peers or ports matches everything there. A
 *   rule whose port or IP block does not parse is dropped, as Calico does.
 *
 * Throws `KddConversionError` when a label key or value cannot be written in a Calico selector (the
 * API server's validation never lets one through).
 */
export function kubernetesNetworkPolicyToCalico(knp: KubernetesNetworkPolicy): NetworkPolicy {
  const { name, namespace } = knp.metadata;
  const where = `networkpolicy ${namespace}/${name}`;
  const ingressRules = knp.spec.ingress ?? [];
  const egressRules = knp.spec.egress ?? [];

  let types: PolicyType[];
  if (knp.spec.policyTypes && knp.spec.policyTypes.length > 0) {
    const listed = new Set(knp.spec.policyTypes);
    types = (["Ingress", "Egress"] as const).filter((t) => listed.has(t));
  } else {
    types = egressRules.length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
  }

  const spec: NetworkPolicy["spec"] = {
    tier: DEFAULT_TIER,
    order: KUBERNETES_NETWORK_POLICY_ORDER,
    selector: selectorText(knp.spec.podSelector, "pod", where),
    types,
  };
  const ingress = convertRules(
    ingressRules.map((r) => ({ peers: r.from ?? r._from ?? [], ports: r.ports ?? [] })),
    "ingress",
    where,
  );
  const egress = convertRules(
    egressRules.map((r) => ({ peers: r.to ?? [], ports: r.ports ?? [] })),
    "egress",
    where,
  );
  if (ingress.length > 0) spec.ingress = ingress;
  if (egress.length > 0) spec.egress = egress;

  return {
    apiVersion: CALICO_API_VERSION,
    kind: "NetworkPolicy",
    metadata: { name: kubernetesNetworkPolicyName(name), namespace, ...carriedMeta(knp.metadata) },
    spec,
  };
}
