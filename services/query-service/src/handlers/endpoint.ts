/** `fedview.v1.query.endpoint`: calicoq endpoint. */
import { querySubject, type UnaryEndpoint, unaryEndpoint } from "@fedview/bus";
import { z } from "zod";
import type { EndpointRequest, EndpointsResult, QueryAnswer } from "../types.js";
import { answer, type HandlerContext, instrumented, queryOptionsShape } from "./common.js";

const schema: z.ZodType<EndpointRequest> = z.object({ substring: z.string(), ...queryOptionsShape });

export function endpointEndpoint(ctx: HandlerContext): UnaryEndpoint<EndpointRequest, QueryAnswer<EndpointsResult>> {
  return unaryEndpoint({
    subject: querySubject("endpoint"),
    schema,
    handler: instrumented("endpoint", ctx.metrics, (request: EndpointRequest) =>
      answer(ctx.view, ctx.view.endpoint(request.substring, request)),
    ),
  });
}
