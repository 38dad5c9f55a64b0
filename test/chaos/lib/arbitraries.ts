/**
 * fast-check arbitraries for the fuzz targets: selector text (grammatical, near-grammatical and
 * garbage), JSON values, mutations of valid documents at random paths, and raw bytes.
 */
import fc from "fast-check";

// ----------------------------------------------------------------------------- selector text

const KEYS = ["a", "app", "in", "has", "all", "global", "not", "contains", "x/y-z_1", "0.9", "-", "/", "."];
const VALUES = ["", "v", "web", 'q"', "it's", "ü", "😀", "\t", " "];
const OPS = ["==", "!=", "contains", "starts with", "startswith", "ends with", "endswith", "in", "not in", "notin"];

const space = fc.constantFrom("", "", " ", "  ", "\t");
const key = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...KEYS) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_./-]{1,12}$/) },
);
const quoted = fc
  .oneof(fc.constantFrom(...VALUES), fc.string({ maxLength: 6 }))
  .chain((v) => fc.constantFrom(`"${v}"`, `'${v}'`));
const set = fc
  .array(quoted, { maxLength: 4 })
  .chain((members) =>
    fc.tuple(space, fc.boolean()).map(([s, trailing]) => `{${s}${members.join(`,${s}`)}${trailing ? "," : ""}${s}}`),
  );

const primary: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(space, key, space).map(([a, k, b]) => `has(${a}${k}${b})`),
  fc.constantFrom("all()", "global()", "all( )"),
  fc
    .tuple(key, space, fc.constantFrom("==", "!=", "contains", "starts with", "startswith", "ends with", "endswith"))
    .chain(([k, s, op]) => quoted.map((v) => `${k}${s || " "}${op} ${v}`)),
  fc.tuple(key, fc.constantFrom("in", "not in", "notin"), set).map(([k, op, s]) => `${k} ${op} ${s}`),
);

/** Selector text built by the grammar, with Calico's whitespace and keyword variants. */
export const grammaticalSelector: fc.Arbitrary<string> = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { maxDepth: 5, depthIdentifier: "sel" },
    primary,
    fc.tuple(fc.constantFrom("!", "!!", "! "), tie("expr")).map(([n, e]) => `${n}${e}`),
    fc.tuple(space, tie("expr"), space).map(([a, e, b]) => `(${a}${e}${b})`),
    fc
      .tuple(fc.array(tie("expr"), { minLength: 2, maxLength: 3 }), fc.constantFrom("&&", "||"), space)
      .map(([es, op, s]) => es.join(`${s || " "}${op}${s || " "}`)),
  ),
})).expr;

/** Characters that matter to the tokenizer, plus a few that must be rejected. */
const SELECTOR_ALPHABET = [..."abhlnstiox09_./-=!&|(){},'\" \t\n\r%{}<>*$\\", "ü", "😀", "\u0000", "\uffff"];

/** One edit applied to selector text. */
type Edit =
  | { op: "insert"; at: number; text: string }
  | { op: "delete"; at: number; length: number }
  | { op: "duplicate"; at: number; length: number };

const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({
    op: fc.constant("insert" as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...SELECTOR_ALPHABET, ...OPS, "&&", "||", "has(", "all()"), fc.string()),
  }),
  fc.record({ op: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ op: fc.constant("duplicate" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
);

function applyEdit(text: string, e: Edit): string {
  const at = text.length === 0 ? 0 : e.at % (text.length + 1);
  switch (e.op) {
    case "insert":
      return text.slice(0, at) + e.text + text.slice(at);
    case "delete":
      return text.slice(0, at) + text.slice(at + e.length);
    case "duplicate":
      return text.slice(0, at + e.length) + text.slice(at, at + e.length) + text.slice(at + e.length);
  }
}

/** Valid selector text with one to four random edits: mostly near-misses of the grammar. */
export const mutatedSelector: fc.Arbitrary<string> = fc
  .tuple(grammaticalSelector, fc.array(edit, { minLength: 1, maxLength: 4 }))
  .map(([text, edits]) => edits.reduce(applyEdit, text));

/** Any selector-ish text: grammatical, mutated, over the tokenizer's alphabet, or any string at all. */
export const anySelectorText: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: grammaticalSelector },
  { weight: 5, arbitrary: mutatedSelector },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...SELECTOR_ALPHABET), { maxLength: 40 }).map((a) => a.join("")) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
);

// ----------------------------------------------------------------------------- JSON documents

/** Any JSON value, including the awkward ones (huge numbers, empty keys, `__proto__`). */
export const jsonValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      null,
      "",
      0,
      -1,
      1e308,
      Number.MAX_SAFE_INTEGER + 2,
      [],
      {},
      "__proto__",
      { __proto__: null },
      { constructor: "x" },
      "x".repeat(5000),
      { "": "" },
    ),
  },
);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A mutation of a document at a path chosen by `pick` (0…1): replace, delete or add a field. */
interface Mutation {
  pick: number;
  action: "replace" | "delete" | "add";
  value: unknown;
  key: string;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.double({ min: 0, max: 1, noNaN: true }),
  action: fc.constantFrom("replace", "delete", "add"),
  value: jsonValue,
  key: fc.oneof(fc.constantFrom("kind", "metadata", "spec", "v", "op", "__proto__", "constructor"), fc.string()),
});

function paths(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) paths(v, [...prefix, i], out);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  }
  return out;
}

function mutate(doc: Json, m: Mutation): unknown {
  const copy = structuredClone(doc);
  const all = paths(copy);
  const path = all[Math.min(all.length - 1, Math.floor(m.pick * all.length))]!;
  if (path.length === 0) return m.action === "replace" ? m.value : copy;
  let parent: Json = copy;
  for (const step of path.slice(0, -1)) parent = (parent as Record<string | number, Json>)[step]!;
  const last = path[path.length - 1]!;
  const container = parent as Record<string | number, unknown>;
  if (m.action === "replace") container[last] = m.value;
  else if (m.action === "delete") delete container[last];
  else {
    const target = container[last];
    if (target !== null && typeof target === "object" && !Array.isArray(target)) {
      (target as Record<string, unknown>)[m.key] = m.value;
    } else container[last] = m.value;
  }
  return copy;
}

/** A valid document with one to three mutations at random paths: structure-aware malformed input. */
export function mutatedDocument(valid: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc
    .tuple(fc.constantFrom(...valid), fc.array(mutation, { minLength: 1, maxLength: 3 }))
    .map(([doc, ms]) => ms.reduce<unknown>((d, m) => mutate(d as Json, m), doc));
}

/** A JSON document: a mutated valid one most of the time, else any JSON value. */
export function malformedDocument(valid: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 4, arbitrary: mutatedDocument(valid) }, { weight: 1, arbitrary: jsonValue });
}

const utf8 = new TextEncoder();

/** Bytes of a message: JSON of a (malformed) document, truncated JSON, or random bytes. */
export function messageBytes(valid: readonly unknown[]): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { weight: 6, arbitrary: malformedDocument(valid).map((d) => utf8.encode(JSON.stringify(d) ?? "null")) },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(...valid), fc.double({ min: 0, max: 1, noNaN: true })).map(([d, cut]) => {
        const text = JSON.stringify(d);
        return utf8.encode(text.slice(0, Math.floor(text.length * cut)));
      }),
    },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 64 }).map((s) => utf8.encode(s)) },
  );
}
