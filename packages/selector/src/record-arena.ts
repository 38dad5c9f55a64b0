/**
 * Storage for the label index's per-item records: int32 words in a few large typed arrays
 * ("chunks") instead of one small object or array per item, which in V8 would cost more in
 * headers than the record itself. An address packs the chunk number (high bits) and the offset.
 *
 * A record never spans two chunks. Updating an item writes a new record and leaves the old one
 * as garbage; the owner compacts once garbage outweighs half of the live words.
 */
import { growCapacity } from "./int-list.js";

/** Chunk offsets take the low 20 bits: chunks of 1 Mi words (4 MiB). */
export const CHUNK_BITS = 20;
const CHUNK_WORDS = 1 << CHUNK_BITS;
/** Mask of the offset part of an address. */
export const OFFSET_MASK = CHUNK_WORDS - 1;
/** Addresses stay non-negative int32: at most 2047 chunks (8 GiB of records). */
const MAX_CHUNKS = 2047;
const FIRST_CHUNK_WORDS = 1024;
const MIN_GARBAGE_TO_COMPACT = 1 << 16;

export class RecordArena {
  /** The chunks; the last one is being filled. Replaced arrays must be re-read after `alloc`. */
  chunks: Int32Array[] = [];
  /** Words of live records. */
  liveWords = 0;
  /** Words of dead records and unusable chunk tails. */
  garbageWords = 0;
  /** Words in use per chunk; the last chunk's entry grows as records are added. */
  private readonly ends: number[] = [];
  private used = 0;

  /** Reserves `words` words and returns the address of the first. */
  alloc(words: number): number {
    if (words > CHUNK_WORDS) throw new RangeError(`a label index record of ${words} words exceeds ${CHUNK_WORDS}`);
    let index = this.chunks.length - 1;
    const chunk = this.chunks[index];
    if (chunk === undefined || this.used + words > chunk.length) {
      if (chunk !== undefined && chunk.length < CHUNK_WORDS) {
        // The last chunk is still small: grow it in place (addresses keep their meaning).
        const grown = new Int32Array(Math.min(CHUNK_WORDS, growCapacity(chunk.length, this.used + words)));
        grown.set(chunk.subarray(0, this.used));
        this.chunks[index] = grown;
      } else {
        if (chunk !== undefined) this.garbageWords += chunk.length - this.used;
        if (this.chunks.length >= MAX_CHUNKS) throw new RangeError("label index record storage is full");
        this.chunks.push(new Int32Array(chunk === undefined ? Math.max(FIRST_CHUNK_WORDS, words) : CHUNK_WORDS));
        this.ends.push(0);
        index++;
        this.used = 0;
      }
    }
    const address = (index << CHUNK_BITS) | this.used;
    this.used += words;
    this.ends[index] = this.used;
    this.liveWords += words;
    return address;
  }

  /** Marks a record of `words` words as garbage. */
  free(words: number): void {
    this.liveWords -= words;
    this.garbageWords += words;
  }

  /** True when compaction would pay for itself. */
  shouldCompact(): boolean {
    return this.garbageWords > MIN_GARBAGE_TO_COMPACT && this.garbageWords * 2 > this.liveWords;
  }

  /**
   * Copies every live record into fresh chunks, rewriting `addresses` (one per owner; negative for
   * none) in place. `recordWords` reads a record's size from its first words.
   */
  compact(addresses: Int32Array, count: number, recordWords: (chunk: Int32Array, offset: number) => number): void {
    const old = this.chunks;
    // Size the first chunk for what survives, so that copying does not grow it step by step.
    this.chunks = [new Int32Array(Math.min(CHUNK_WORDS, Math.max(FIRST_CHUNK_WORDS, this.liveWords)))];
    this.ends.length = 0;
    this.ends.push(0);
    this.used = 0;
    this.liveWords = 0;
    this.garbageWords = 0;
    for (let owner = 0; owner < count; owner++) {
      const address = addresses[owner]!;
      if (address < 0) continue;
      const chunk = old[address >>> CHUNK_BITS]!;
      const offset = address & OFFSET_MASK;
      const words = recordWords(chunk, offset);
      const next = this.alloc(words);
      this.chunks[next >>> CHUNK_BITS]!.set(chunk.subarray(offset, offset + words), next & OFFSET_MASK);
      addresses[owner] = next;
    }
  }

  /**
   * Words written in chunk `index` (live records, garbage records, no tail): records lie back to
   * back from offset 0 up to here, so a scan can walk them in memory order.
   */
  chunkEnd(index: number): number {
    return this.ends[index] ?? 0;
  }

  /** Bytes reserved by the chunks. */
  get bytes(): number {
    let words = 0;
    for (const chunk of this.chunks) words += chunk.length;
    return words * 4;
  }
}
