/** `fedview.v1.query.host`: calicoq host (`<cluster>/<node>` for a remote node). */
import { querySubject, type UnaryEndpoint, unaryEndpoint } from "@fedview/bus";
import { z } from "zod";
import type { EndpointsResult, HostRequest, QueryAnswer } from "../types.js";
import { answer, type HandlerContext, instrumented, queryOptionsShape } from "./common.js";

const schema: z.ZodType<HostRequest> = z.object({ hostname: z.string().min(1), ...queryOptionsShape });

export function hostEndpoint(ctx: HandlerContext): UnaryEndpoint<HostRequest, QueryAnswer<EndpointsResult>> {
  return unaryEndpoint({
    subject: querySubject("host"),
    schema,
    handler: instrumented("host", ctx.metrics, (request: HostRequest) =>
      answer(ctx.view, ctx.view.host(request.hostname, request)),
    ),
  });
}
