/**
 * zod schemas for Calico v3 policy rules, shared by Profile (`calico-v3.ts`) and the policy kinds
 * (`policy.ts`). Loose objects: unknown fields are kept, known ones are type-checked.
 */
import { z } from "zod";

/** A protocol: a name such as `TCP` or an IP protocol number. */
export const ProtocolSchema = z.union([z.string(), z.number().int().min(0).max(255)]);

/** A port in a rule: a number, a `"from:to"` range string, or a named port. */
export const PortSchema = z.union([z.number().int().min(0).max(65535), z.string()]);

/** The actions a rule may take. */
export const RuleActionSchema = z.enum(["Allow", "Deny", "Log", "Pass"]);

/** `serviceAccounts` of an entity rule: match by name and/or by a selector over SA labels. */
export const ServiceAccountMatchSchema = z.looseObject({
  names: z.array(z.string()).optional(),
  selector: z.string().optional(),
});

/** `services` of an entity rule: a Kubernetes Service by name. */
export const ServiceMatchSchema = z.looseObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
});

/** `source` / `destination` of a rule. */
export const EntityRuleSchema = z.looseObject({
  nets: z.array(z.string()).optional(),
  notNets: z.array(z.string()).optional(),
  selector: z.string().optional(),
  notSelector: z.string().optional(),
  namespaceSelector: z.string().optional(),
  ports: z.array(PortSchema).optional(),
  notPorts: z.array(PortSchema).optional(),
  serviceAccounts: ServiceAccountMatchSchema.optional(),
  services: ServiceMatchSchema.optional(),
});

/** ICMP type/code match. */
export const ICMPFieldsSchema = z.looseObject({
  type: z.number().int().optional(),
  code: z.number().int().optional(),
});

/** HTTP match (application layer policy). */
export const HTTPMatchSchema = z.looseObject({
  methods: z.array(z.string()).optional(),
  paths: z.array(z.looseObject({ exact: z.string().optional(), prefix: z.string().optional() })).optional(),
});

/** One ingress or egress rule. */
export const RuleSchema = z.looseObject({
  action: RuleActionSchema,
  ipVersion: z.union([z.literal(4), z.literal(6)]).optional(),
  protocol: ProtocolSchema.optional(),
  notProtocol: ProtocolSchema.optional(),
  icmp: ICMPFieldsSchema.optional(),
  notICMP: ICMPFieldsSchema.optional(),
  source: EntityRuleSchema.optional(),
  destination: EntityRuleSchema.optional(),
  http: HTTPMatchSchema.optional(),
  metadata: z.looseObject({ annotations: z.record(z.string(), z.string()).optional() }).optional(),
});
