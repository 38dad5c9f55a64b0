/**
 * The internalized copy of a string. Label keys are used as property keys on every evaluation;
 * a key sliced out of selector text is not internalized, and V8 would look it up in its string
 * table on each keyed property access (several times slower than the lookup itself).
 */
export function internString(s: string): string {
  return Object.keys({ [s]: 0 })[0] ?? s;
}
