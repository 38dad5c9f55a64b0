import { configSubject, NotFoundError, type UnaryEndpoint, unaryEndpoint } from "@fedview/bus";
import { z } from "zod";
import type { RccObject } from "../types.js";
import { checkName, counted, type HandlerContext, redactRcc } from "./context.js";

/** `fedview.v1.config.get` request: one RCC by name. */
export const GetRequestSchema = z.object({ name: z.string().min(1) });
export type GetRequest = z.infer<typeof GetRequestSchema>;

/** The RCC as stored, `resourceVersion` included, with `etcdPassword` and `k8sAPIToken` redacted. */
export type GetResponse = RccObject;

/** `fedview get remoteclusterconfiguration NAME`. 404 when it does not exist. */
export function getEndpoint(context: HandlerContext): UnaryEndpoint<GetRequest, GetResponse> {
  return unaryEndpoint({
    subject: configSubject("get"),
    schema: GetRequestSchema,
    handler: (request) =>
      counted(context, "get", async () => {
        checkName(request.name);
        const stored = await context.store.get(request.name);
        if (!stored) throw new NotFoundError(`RemoteClusterConfiguration "${request.name}" not found`);
        return redactRcc(stored.object);
      }),
  });
}
