/** `fedview.v1.query.status`: the service's own state and one row per cluster. */
import { querySubject, type UnaryEndpoint, unaryEndpoint } from "@fedview/bus";
import { z } from "zod";
import type { QueryAnswer, StatusResult } from "../types.js";
import { answer, type HandlerContext, instrumented } from "./common.js";

/** No parameters; an empty body, `null` or `{}` are all accepted. */
export type StatusRequest = Record<string, unknown> | null | undefined;

const schema: z.ZodType<StatusRequest> = z.looseObject({}).nullish();

export function statusEndpoint(ctx: HandlerContext): UnaryEndpoint<StatusRequest, QueryAnswer<StatusResult>> {
  return unaryEndpoint({
    subject: querySubject("status"),
    schema,
    handler: instrumented("status", ctx.metrics, (_request: StatusRequest) =>
      answer(ctx.view, { service: ctx.serviceStatus(), clusters: ctx.view.status() }),
    ),
  });
}
