/**
 * A growable list of int32 in a typed array: 4 bytes an element where a JS array of numbers
 * costs 8 on a 64-bit heap without pointer compression (Node's default). Removal moves the last
 * element into the hole, so callers that track positions must update the moved element's.
 */
export class IntList {
  data: Int32Array;
  size = 0;

  constructor(capacity = 4) {
    this.data = new Int32Array(capacity);
  }

  /** Appends `value` and returns its position. */
  push(value: number): number {
    if (this.size === this.data.length) this.resize(growCapacity(this.data.length, this.size + 1));
    this.data[this.size] = value;
    return this.size++;
  }

  /**
   * Removes the element at `position` by moving the last element there. Returns the moved
   * element, or -1 when the removed one was last (nothing moved).
   */
  removeAt(position: number): number {
    const last = --this.size;
    let moved = -1;
    if (position !== last) {
      moved = this.data[last]!;
      this.data[position] = moved;
    }
    // Give memory back once a list that was large has mostly emptied.
    if (this.data.length > 64 && this.size < this.data.length / 4) this.resize(Math.max(this.size * 2, 16));
    return moved;
  }

  private resize(capacity: number): void {
    const next = new Int32Array(capacity);
    next.set(this.data.subarray(0, this.size));
    this.data = next;
  }
}

/** Doubling while small, then 1.5× so that large arrays waste at most a third. */
export function growCapacity(current: number, needed: number): number {
  let capacity = Math.max(current, 4);
  while (capacity < needed) capacity = capacity < 1 << 16 ? capacity * 2 : Math.ceil(capacity * 1.5);
  return capacity;
}

/** A copy of `array` with room for at least `needed` elements, new ones set to `fill`. */
export function growInt32(array: Int32Array<ArrayBuffer>, needed: number, fill = 0): Int32Array<ArrayBuffer> {
  if (needed <= array.length) return array;
  const next = new Int32Array(growCapacity(array.length, needed));
  next.set(array);
  if (fill !== 0) next.fill(fill, array.length);
  return next;
}
