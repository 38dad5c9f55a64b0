/** `fedview.v1.query.policy`: calicoq policy. An unknown policy answers `result: null`, as calicoq prints nothing. */
import { querySubject, type UnaryEndpoint, unaryEndpoint } from "@fedview/bus";
import { z } from "zod";
import type { PolicyRequest, PolicyResult, QueryAnswer } from "../types.js";
import { answer, type HandlerContext, instrumented, queryOptionsShape } from "./common.js";

const schema: z.ZodType<PolicyRequest> = z.object({
  name: z.string().min(1, "The policy-name must be specified."),
  ...queryOptionsShape,
});

export function policyEndpoint(ctx: HandlerContext): UnaryEndpoint<PolicyRequest, QueryAnswer<PolicyResult | null>> {
  return unaryEndpoint({
    subject: querySubject("policy"),
    schema,
    handler: instrumented(
      "policy",
      ctx.metrics,
      (request: PolicyRequest) => answer(ctx.view, ctx.view.policy(request.name, request)),
      (a) => (a.result === null ? "not_found" : "ok"),
    ),
  });
}
