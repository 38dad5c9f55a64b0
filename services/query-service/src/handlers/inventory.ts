/** `fedview.v1.query.inventory`: what the view holds, with versions, a page at a time. */
import { isClusterToken, querySubject, type UnaryEndpoint, unaryEndpoint } from "@fedview/bus";
import { z } from "zod";
import type { InventoryRequest, InventoryResult, QueryAnswer } from "../types.js";
import { answer, type HandlerContext, instrumented } from "./common.js";

const DEFAULT_LIMIT = 5000;

const schema: z.ZodType<InventoryRequest> = z.object({
  cluster: z.string().refine(isClusterToken, { message: "must be a cluster name or _local" }).optional(),
  after: z.string().max(4096).optional(),
  limit: z.number().int().min(1).max(50_000).optional(),
});

export function inventoryEndpoint(ctx: HandlerContext): UnaryEndpoint<InventoryRequest, QueryAnswer<InventoryResult>> {
  return unaryEndpoint({
    subject: querySubject("inventory"),
    schema,
    handler: instrumented("inventory", ctx.metrics, (request: InventoryRequest) => {
      const page = ctx.view.inventory({ ...request, limit: request.limit ?? DEFAULT_LIMIT });
      const items = page.items.map(({ key: _key, ...item }) => item);
      const last = page.items[page.items.length - 1];
      const result: InventoryResult = page.more && last !== undefined ? { items, next: last.key } : { items };
      return answer(ctx.view, result);
    }),
  });
}
