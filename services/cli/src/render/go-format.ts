/**
 * Go's formatting of values as calicoq (a Go program) prints them, so our bytes equal its bytes:
 * `encoding/json`'s `MarshalIndent` (HTML-safe escapes: `&&` in a selector is `\u0026\u0026`) and
 * `fmt`'s `%v` for float64 (policy orders: `1e+06`, not `1000000`).
 */

/** A JSON value whose object keys keep their insertion order (Go struct field order). */
export type GoJsonValue = string | number | boolean | null | GoJsonValue[] | { [key: string]: GoJsonValue };

const ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
  "<": "\\u003c",
  ">": "\\u003e",
  "&": "\\u0026",
  "\u2028": "\\u2028",
  "\u2029": "\\u2029",
};

/** A string as Go's `encoding/json` writes it (HTML escaping on, as `json.Marshal` does by default). */
export function goJsonString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const escaped = ESCAPES[ch];
    if (escaped !== undefined) out += escaped;
    else if (ch < " ") out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return `${out}"`;
}

/**
 * `json.MarshalIndent(value, "", "  ")`. Numbers print as JavaScript prints them, which for float64
 * is what Go's encoder prints too (both switch to exponents at 1e21 and below 1e-6).
 */
export function goMarshalIndent(value: GoJsonValue, indent = "  ", prefix = ""): string {
  if (value === null) return "null";
  if (typeof value === "string") return goJsonString(value);
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null";
  if (typeof value === "boolean") return String(value);
  const inner = prefix + indent;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => inner + goMarshalIndent(v, indent, inner)).join(",\n")}\n${prefix}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return "{}";
  const body = entries.map(([k, v]) => `${inner}${goJsonString(k)}: ${goMarshalIndent(v, indent, inner)}`);
  return `{\n${body.join(",\n")}\n${prefix}}`;
}

/**
 * `fmt.Sprintf("%v", f)` for a float64: the shortest digits that round-trip, in `%e` form when the
 * decimal exponent is below -4 or at least 6 (`1e+06`, `1.5e-05`), else in plain decimal.
 */
export function goFloat(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const [mantissa = "0", exponentText = "0"] = value.toExponential().split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    const sign = exponent < 0 ? "-" : "+";
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  // Within that range JavaScript prints plain decimals with the same shortest digits.
  return String(value);
}
