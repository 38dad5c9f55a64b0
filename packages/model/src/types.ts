/**
 * Types of `@fedview/model`: the inferred types of every schema plus the small result and identity
 * shapes the helpers return. Kept apart from the schemas so consumers can import types alone.
 */
import type { z } from "zod";
import type {
  EndpointPortSchema,
  GlobalNetworkSetSchema,
  HostEndpointSchema,
  IPPoolSchema,
  NetworkSetSchema,
  NodeSchema,
  ObjectMetaSchema,
  ProfileSchema,
  WorkloadEndpointSchema,
} from "./calico-v3.js";
import type {
  KubernetesNodeSchema,
  KubernetesObjectMetaSchema,
  NamespaceSchema,
  PodSchema,
  ServiceAccountSchema,
} from "./kdd.js";
import type { KubernetesLabelSelectorSchema, KubernetesNetworkPolicySchema } from "./kubernetes-network-policy.js";
import type { GlobalNetworkPolicySchema, NetworkPolicySchema, PolicyTypeSchema, TierSchema } from "./policy.js";
import type {
  ClusterAccessSecretRefSchema,
  DatastoreTypeSchema,
  OverlayRoutingModeSchema,
  RemoteClusterConfigurationSchema,
  RemoteClusterConfigurationSpecSchema,
  RemoteClusterSyncOptionsSchema,
} from "./rcc.js";
import type { EntityRuleSchema, RuleActionSchema, RuleSchema, ServiceAccountMatchSchema } from "./rules.js";

/** A label (or annotation) map. */
export type Labels = Record<string, string>;

/** One problem found by a validator; `path` is dotted, e.g. `spec.etcdCertFile`. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** What a validator returns: the parsed value, or every issue found. */
export type ValidationResult<T> = { success: true; data: T } | { success: false; issues: ValidationIssue[] };

/** The identity of a resource within its kind: a name, and a namespace for namespaced kinds. */
export interface NamespacedName {
  namespace?: string;
  name: string;
}

/** The four parts encoded in a WorkloadEndpoint name. */
export interface WorkloadEndpointNameParts {
  node: string;
  orchestrator: string;
  /** The pod name for Kubernetes, the workload ID otherwise. */
  workload: string;
  endpoint: string;
}

/** How calicoq identifies a workload endpoint. */
export interface WorkloadEndpointIdentity {
  /** `_local` or the RemoteClusterConfiguration name. */
  cluster: string;
  /** The node name without any cluster prefix. */
  node: string;
  /** The node as the merged view names it: `<cluster>/<node>` for remote clusters. */
  host: string;
  orchestrator: string;
  /** `<namespace>/<pod>` (calicoq's workload ID). */
  workload: string;
  endpoint: string;
}

/** How calicoq identifies a host endpoint. */
export interface HostEndpointIdentity {
  cluster: string;
  node: string;
  /** The node as the merged view names it: `<cluster>/<node>` for remote clusters. */
  host: string;
  name: string;
}

/** A resource ID split into its cluster and its name in that cluster. */
export interface ClusterScopedName {
  cluster: string;
  name: string;
}

/** Metadata of a Calico v3 resource. */
export type ObjectMeta = z.infer<typeof ObjectMetaSchema>;
/** A named port of an endpoint. */
export type EndpointPort = z.infer<typeof EndpointPortSchema>;
/** A Calico v3 WorkloadEndpoint. */
export type WorkloadEndpoint = z.infer<typeof WorkloadEndpointSchema>;
/** A Calico v3 HostEndpoint. */
export type HostEndpoint = z.infer<typeof HostEndpointSchema>;
/** A Calico v3 Profile. */
export type Profile = z.infer<typeof ProfileSchema>;
/** A Calico v3 Node. */
export type Node = z.infer<typeof NodeSchema>;
/** A Calico v3 IPPool. */
export type IPPool = z.infer<typeof IPPoolSchema>;
/** A Calico v3 NetworkSet. */
export type NetworkSet = z.infer<typeof NetworkSetSchema>;
/** A Calico v3 GlobalNetworkSet. */
export type GlobalNetworkSet = z.infer<typeof GlobalNetworkSetSchema>;

/** `Allow`, `Deny`, `Log` or `Pass`. */
export type RuleAction = z.infer<typeof RuleActionSchema>;
/** An ingress or egress rule. */
export type Rule = z.infer<typeof RuleSchema>;
/** The `source` or `destination` of a rule. */
export type EntityRule = z.infer<typeof EntityRuleSchema>;
/** `serviceAccounts` of an entity rule. */
export type ServiceAccountMatch = z.infer<typeof ServiceAccountMatchSchema>;
/** `Ingress` or `Egress`. */
export type PolicyType = z.infer<typeof PolicyTypeSchema>;
/** A Calico v3 NetworkPolicy. */
export type NetworkPolicy = z.infer<typeof NetworkPolicySchema>;
/** A Calico v3 GlobalNetworkPolicy. */
export type GlobalNetworkPolicy = z.infer<typeof GlobalNetworkPolicySchema>;
/** A Calico v3 Tier. */
export type Tier = z.infer<typeof TierSchema>;

/** `etcdv3` or `kubernetes`. */
export type DatastoreType = z.infer<typeof DatastoreTypeSchema>;
/** `Enabled` or `Disabled`. */
export type OverlayRoutingMode = z.infer<typeof OverlayRoutingModeSchema>;
/** `spec.clusterAccessSecret` of an RCC. */
export type ClusterAccessSecretRef = z.infer<typeof ClusterAccessSecretRefSchema>;
/** `spec.syncOptions` of an RCC, with defaults filled in. */
export type RemoteClusterSyncOptions = z.infer<typeof RemoteClusterSyncOptionsSchema>;
/** `spec` of an RCC. */
export type RemoteClusterConfigurationSpec = z.infer<typeof RemoteClusterConfigurationSpecSchema>;
/** A RemoteClusterConfiguration, with defaults filled in. */
export type RemoteClusterConfiguration = z.infer<typeof RemoteClusterConfigurationSchema>;

/** The data keys of a cluster access Secret, after validation (values are file contents). */
export interface ClusterAccessSecretData {
  datastoreType: DatastoreType;
  etcdEndpoints?: string;
  etcdUsername?: string;
  etcdPassword?: string;
  /** PEM private key. */
  etcdKey?: string;
  /** PEM client certificate. */
  etcdCert?: string;
  /** PEM CA certificate(s). */
  etcdCACert?: string;
  /** kubeconfig file contents. */
  kubeconfig?: string;
}

/** Options of the RCC and Secret validators. */
export interface RemoteClusterValidationOptions {
  /**
   * Accept `k8s*`/`kube*` fields on an `etcdv3` RCC (and `kubeconfig` in an etcdv3 Secret), as
   * Calico does for its federated services controller. Off by default: fedview rejects them.
   */
  allowKubernetesFieldsWithEtcd?: boolean;
}

/** The metadata fields read from Kubernetes objects. */
export type KubernetesObjectMeta = z.infer<typeof KubernetesObjectMetaSchema>;
/** The Pod fields the KDD conversion reads (others kept). */
export type Pod = z.infer<typeof PodSchema>;
/** The Namespace fields the KDD conversion reads (others kept). */
export type Namespace = z.infer<typeof NamespaceSchema>;
/** The ServiceAccount fields the KDD conversion reads (others kept). */
export type ServiceAccount = z.infer<typeof ServiceAccountSchema>;
/** The Kubernetes Node fields the KDD conversion reads (others kept). */
export type KubernetesNode = z.infer<typeof KubernetesNodeSchema>;
/** A Kubernetes label selector (`matchLabels`, `matchExpressions`). */
export type KubernetesLabelSelector = z.infer<typeof KubernetesLabelSelectorSchema>;
/** The Kubernetes NetworkPolicy fields the KDD conversion reads (others kept). */
export type KubernetesNetworkPolicy = z.infer<typeof KubernetesNetworkPolicySchema>;

/** Every Calico v3 resource type the model knows. */
export type CalicoResource =
  | WorkloadEndpoint
  | HostEndpoint
  | Profile
  | NetworkPolicy
  | GlobalNetworkPolicy
  | Node
  | IPPool
  | NetworkSet
  | GlobalNetworkSet
  | Tier
  | RemoteClusterConfiguration;

/** An endpoint: what selectors select. */
export type Endpoint = WorkloadEndpoint | HostEndpoint;

/** The resource type of one kind, e.g. `ResourceOf<"Profile">`. */
export type ResourceOf<K extends CalicoResource["kind"]> = Extract<CalicoResource, { kind: K }>;
