/**
 * `fedview.v1.query.watch`: a selector's matches as a stream (bus streaming protocol): `start` for
 * each current match, `synced` with the problems, then `start`/`stop` as endpoints and profiles
 * change, and `problems` whenever the set of clusters that are not `InSync` changes.
 */
import { querySubject, type StreamEndpoint, streamEndpoint } from "@fedview/bus";
import { z } from "zod";
import type { WatchMessage, WatchRequest } from "../types.js";
import { type HandlerContext, selectorField, toBusError } from "./common.js";

const schema: z.ZodType<WatchRequest> = z.object({ selector: selectorField });

export function watchEndpoint(ctx: HandlerContext): StreamEndpoint<WatchRequest, WatchMessage> {
  return streamEndpoint({
    subject: querySubject("watch"),
    schema,
    heartbeatMs: ctx.watchHeartbeatMs,
    async stream(request, sink) {
      const started = performance.now();
      let watch: ReturnType<typeof ctx.view.watch>;
      try {
        watch = ctx.view.watch(request.selector, (event) => sink.send(event));
      } catch (err) {
        ctx.metrics.observeQuery("watch", "invalid", (performance.now() - started) / 1000);
        throw toBusError(err);
      }
      ctx.metrics.watchOpened();
      const stopProblems = ctx.onProblemsChange((problems) => sink.send({ type: "problems", problems }));
      try {
        sink.send({ type: "synced", problems: ctx.view.problems() });
        ctx.metrics.observeQuery("watch", "ok", (performance.now() - started) / 1000);
        await sink.closed;
      } finally {
        stopProblems();
        watch.close();
        ctx.metrics.watchClosed();
      }
    },
  });
}
