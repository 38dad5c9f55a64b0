/**
 * NATS headers fedview sets. State messages repeat op, revision and generation in headers so that an
 * inventory or a compaction can read them from a headers-only consumer without fetching payloads.
 */
import type { MsgHdrs } from "@nats-io/nats-core";
import { headers } from "@nats-io/nats-core";

/** `upsert` or `delete`. */
export const OP_HEADER = "Fedview-Op";
/** The source revision of a resource event. */
export const REVISION_HEADER = "Fedview-Revision";
/** The connection-config generation. */
export const GENERATION_HEADER = "Fedview-Generation";

/** Marks a message of a service stream: `data`, `heartbeat` or `end`. */
export const STREAM_HEADER = "Fedview-Stream";
/** Sequence number of a `data` message in a service stream, from 1, to detect lost messages. */
export const STREAM_SEQ_HEADER = "Fedview-Stream-Seq";
/** On a streaming request: the inbox the service is to publish the stream on. */
export const STREAM_INBOX_HEADER = "Fedview-Stream-Inbox";

/**
 * On the first message of a reply too large for one message: how many chunks the reply has (the
 * first message carries chunk 0). See the chunked replies of `serveService`.
 */
export const REPLY_CHUNKS_HEADER = "Fedview-Reply-Chunks";
/** On the first message of a chunked reply: the reply's total size in bytes. */
export const REPLY_BYTES_HEADER = "Fedview-Reply-Bytes";
/** On the first message of a chunked reply: the subject the caller requests the other chunks from. */
export const REPLY_FETCH_HEADER = "Fedview-Reply-Fetch";
/** On a chunk fetch request: the index of the chunk wanted (from 1). */
export const REPLY_CHUNK_HEADER = "Fedview-Reply-Chunk";

/** Headers of a state message. */
export function stateHeaders(op: "upsert" | "delete", generation: number, revision?: string): MsgHdrs {
  const h = headers();
  h.set(OP_HEADER, op);
  h.set(GENERATION_HEADER, String(generation));
  if (revision !== undefined) h.set(REVISION_HEADER, revision);
  return h;
}
