import { configSubject, type UnaryEndpoint, unaryEndpoint } from "@fedview/bus";
import { CALICO_API_VERSION } from "@fedview/model";
import { z } from "zod";
import type { RccObject } from "../types.js";
import { counted, type HandlerContext, redactRcc } from "./context.js";

/** `fedview.v1.config.list` request: every RCC (the body may be empty). */
export const ListRequestSchema = z.object({}).optional();
export type ListRequest = z.infer<typeof ListRequestSchema>;

/** Every RCC sorted by name, secrets redacted, as a Calico v3 list. */
export interface ListResponse {
  apiVersion: string;
  kind: "RemoteClusterConfigurationList";
  metadata: { resourceVersion: string };
  items: RccObject[];
}

/** `fedview get remoteclusterconfigurations`. */
export function listEndpoint(context: HandlerContext): UnaryEndpoint<ListRequest, ListResponse> {
  return unaryEndpoint({
    subject: configSubject("list"),
    schema: ListRequestSchema,
    handler: () =>
      counted(context, "list", async () => {
        const listing = await context.store.list();
        return {
          apiVersion: CALICO_API_VERSION,
          kind: "RemoteClusterConfigurationList" as const,
          metadata: { resourceVersion: listing.resourceVersion },
          items: listing.items
            .map((item) => redactRcc(item.object))
            .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)),
        };
      }),
  });
}
