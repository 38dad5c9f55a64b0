import { configSubject, type UnaryEndpoint, unaryEndpoint } from "@fedview/bus";
import { z } from "zod";
import type { RccObject } from "../types.js";
import { checkName, counted, type HandlerContext, redactRcc } from "./context.js";

/** `fedview.v1.config.delete` request; with `resourceVersion` the delete happens only if it is current. */
export const DeleteRequestSchema = z.object({ name: z.string().min(1), resourceVersion: z.string().min(1).optional() });
export type DeleteRequest = z.infer<typeof DeleteRequestSchema>;

/** The RCC as it was when deleted, secrets redacted. */
export type DeleteResponse = RccObject;

/**
 * `fedview delete remoteclusterconfiguration NAME`. 404 when absent, 409 when `resourceVersion` is stale.
 * The connection config is withdrawn by the watch that sees the deletion.
 */
export function deleteEndpoint(context: HandlerContext): UnaryEndpoint<DeleteRequest, DeleteResponse> {
  return unaryEndpoint({
    subject: configSubject("delete"),
    schema: DeleteRequestSchema,
    handler: (request) =>
      counted(context, "delete", async () => {
        checkName(request.name);
        const deleted = await context.store.delete(
          request.name,
          request.resourceVersion === undefined ? {} : { resourceVersion: request.resourceVersion },
        );
        context.logger.info({ rcc: request.name }, "RemoteClusterConfiguration deleted on request");
        return redactRcc(deleted.object);
      }),
  });
}
