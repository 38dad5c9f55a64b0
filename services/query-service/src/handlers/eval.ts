/** `fedview.v1.query.eval`: calicoq eval. */
import { querySubject, type UnaryEndpoint, unaryEndpoint } from "@fedview/bus";
import { z } from "zod";
import type { EvalRequest, EvalResult, QueryAnswer } from "../types.js";
import { answer, type HandlerContext, instrumented, selectorField } from "./common.js";

const schema: z.ZodType<EvalRequest> = z.object({ selector: selectorField });

export function evalEndpoint(ctx: HandlerContext): UnaryEndpoint<EvalRequest, QueryAnswer<EvalResult>> {
  return unaryEndpoint({
    subject: querySubject("eval"),
    schema,
    handler: instrumented("eval", ctx.metrics, (request: EvalRequest) =>
      answer(ctx.view, ctx.view.eval(request.selector)),
    ),
  });
}
