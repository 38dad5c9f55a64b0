/**
 * Interned strings with reference counts. The label index stores small integer ids instead of
 * label keys and values, so that each distinct string is held once however many items carry it,
 * and a string is forgotten (its id reused) once nothing refers to it.
 */

/** The id `lookup` returns for a string that is not interned. */
export const UNKNOWN_ID = -2;

export class InternTable {
  private readonly ids = new Map<string, number>();
  /** Strings by id ("" for free ids). Stable: mutated in place, never replaced. */
  readonly names: string[] = [];
  private refs = new Int32Array(64);
  private readonly free: number[] = [];

  /** Distinct strings currently interned. */
  get size(): number {
    return this.ids.size;
  }

  /** Interns `name` (if needed) and takes a reference to it. */
  acquire(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      id = this.free.pop() ?? this.names.length;
      if (id >= this.refs.length) {
        const grown = new Int32Array(this.refs.length * 2);
        grown.set(this.refs);
        this.refs = grown;
      }
      this.ids.set(name, id);
      this.names[id] = name;
    }
    this.refs[id]!++;
    return id;
  }

  /** Takes one more reference to an interned id. */
  retain(id: number): void {
    this.refs[id]!++;
  }

  /** Drops a reference; the string is forgotten when the last one goes. Returns true if it was. */
  release(id: number): boolean {
    const left = --this.refs[id]!;
    if (left > 0) return false;
    this.ids.delete(this.names[id]!);
    this.names[id] = "";
    this.free.push(id);
    return true;
  }

  /** The id of `name`, or `UNKNOWN_ID` when it is not interned. */
  lookup(name: string): number {
    return this.ids.get(name) ?? UNKNOWN_ID;
  }

  /** The string behind a live id. */
  nameOf(id: number): string {
    return this.names[id]!;
  }
}
