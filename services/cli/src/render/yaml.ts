/**
 * calicoq's `-o yaml`. calicoq marshals its output list to JSON and converts that to YAML (the
 * ghodss/sigs.k8s.io way), so maps come out with sorted keys and go-yaml v2's scalar styles: plain
 * when the text reads back as the same string, single quotes when it starts with an indicator
 * (`!has(a)` → `'!has(a)'`), double quotes when it would read back as another type (`"yes"`, `"10"`).
 * The emitter below covers the document shapes calicoq prints (maps, lists, strings, numbers).
 */
import type { EndpointsResult, EvalResult, PolicyResult } from "@fedview/query-service";
import { endpointsDocument, policyDocument } from "./calicoq-shape.js";
import { type GoJsonValue, goFloat, goJsonString } from "./go-format.js";

/** `eval`, `endpoint` or `host` as calicoq's yaml. */
export function renderEndpointsYaml(result: EvalResult | EndpointsResult): string {
  return toGoYaml(endpointsDocument(result));
}

/** `policy` as calicoq's yaml; an unknown policy (null) prints nothing. */
export function renderPolicyYaml(result: PolicyResult | null): string {
  return result === null ? "" : toGoYaml(policyDocument(result));
}

/** go-yaml v2's map key order: character by character, non-letters before letters. */
export function compareYamlKeys(a: string, b: string): number {
  const ar = [...a];
  const br = [...b];
  for (let i = 0; i < ar.length && i < br.length; i++) {
    const x = ar[i]!;
    const y = br[i]!;
    if (x === y) continue;
    const xl = /\p{L}/u.test(x);
    const yl = /\p{L}/u.test(y);
    if (xl !== yl) return xl ? 1 : -1;
    return x < y ? -1 : 1;
  }
  return ar.length - br.length;
}

/** YAML 1.1 words go-yaml v2 reads as booleans or null. */
const NON_STRING_WORDS = new Set(
  "y Y yes Yes YES n N no No NO on On ON off Off OFF true True TRUE false False FALSE ~ null Null NULL <<".split(" "),
);

/** Whether go-yaml v2 would read the plain text back as something other than a string. */
function resolvesToNonString(text: string): boolean {
  if (text === "" || NON_STRING_WORDS.has(text)) return true;
  if (/^[-+]?(\.inf|\.Inf|\.INF)$|^\.(nan|NaN|NAN)$/.test(text)) return true;
  const plain = text.replace(/_/g, "");
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(plain)) return true;
  if (/^[-+]?0[0-7]+$|^[-+]?0x[0-9a-fA-F]+$|^[-+]?0b[01]+$/.test(plain)) return true;
  if (/^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/.test(plain)) return true;
  // Base-60 floats (`1:20`) and timestamps (`2025-03-01`, `2025-03-01T10:00:00Z`).
  if (/^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$/.test(text)) return true;
  if (/^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?$/.test(text)) return true;
  return false;
}

const FIRST_INDICATORS = new Set([..."#,[]{}&*!|>'\"%@`"]);
const isBlankOrEnd = (ch: string | undefined) => ch === undefined || ch === " " || ch === "\t";

/** libyaml's analysis: may the text be written as a plain scalar in block context? */
function plainAllowed(text: string): boolean {
  if (text.startsWith("---") || text.startsWith("...")) return false;
  const chars = [...text];
  if (chars[0] === " " || chars[chars.length - 1] === " ") return false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    const followedByBlank = isBlankOrEnd(chars[i + 1]);
    if (i === 0) {
      if (FIRST_INDICATORS.has(ch)) return false;
      if ((ch === "?" || ch === ":" || ch === "-") && followedByBlank) return false;
    } else {
      if (ch === ":" && followedByBlank) return false;
      if (ch === "#" && isBlankOrEnd(chars[i - 1])) return false;
    }
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || code === 0x7f || code === 0xfeff) return false;
  }
  return true;
}

/** A scalar string as go-yaml v2 writes it. */
export function goYamlString(text: string): string {
  const special = [...text].some((ch) => {
    const code = ch.codePointAt(0)!;
    return (code < 0x20 && ch !== "\t") || code === 0x7f || code === 0xfeff;
  });
  if (special || resolvesToNonString(text)) return goJsonString(text);
  if (plainAllowed(text)) return text;
  return `'${text.replace(/'/g, "''")}'`;
}

function scalar(value: string | number | boolean | null): string {
  if (value === null) return "null";
  if (typeof value === "boolean") return String(value);
  // JSON integers read back as YAML ints; anything else is a float64 printed with %g.
  if (typeof value === "number")
    return Number.isInteger(value) && Math.abs(value) < 1e21 ? String(value) : goFloat(value);
  return goYamlString(value);
}

function isCollection(value: GoJsonValue): value is GoJsonValue[] | { [key: string]: GoJsonValue } {
  return typeof value === "object" && value !== null;
}

function emit(value: GoJsonValue, indent: string, lines: string[], first: string): void {
  if (Array.isArray(value)) {
    if (value.length === 0) {
      lines.push(`${first}[]`);
      return;
    }
    value.forEach((item, i) => {
      const lead = i === 0 ? first : indent;
      if (isCollection(item) && (Array.isArray(item) ? item.length > 0 : Object.keys(item).length > 0)) {
        emit(item, `${indent}  `, lines, `${lead}- `);
      } else {
        lines.push(`${lead}- ${isCollection(item) ? (Array.isArray(item) ? "[]" : "{}") : scalar(item)}`);
      }
    });
    return;
  }
  if (isCollection(value)) {
    const keys = Object.keys(value).sort(compareYamlKeys);
    if (keys.length === 0) {
      lines.push(`${first}{}`);
      return;
    }
    keys.forEach((key, i) => {
      const lead = i === 0 ? first : indent;
      const child = value[key]!;
      const name = goYamlString(key);
      if (Array.isArray(child) && child.length > 0) {
        // go-yaml v2 does not indent a list under its key.
        lines.push(`${lead}${name}:`);
        emit(child, indent, lines, indent);
      } else if (isCollection(child) && !Array.isArray(child) && Object.keys(child).length > 0) {
        lines.push(`${lead}${name}:`);
        emit(child, `${indent}  `, lines, `${indent}  `);
      } else {
        lines.push(`${lead}${name}: ${isCollection(child) ? (Array.isArray(child) ? "[]" : "{}") : scalar(child)}`);
      }
    });
    return;
  }
  lines.push(`${first}${scalar(value)}`);
}

/** The YAML go-yaml v2 writes for a JSON document (a newline after every line). */
export function toGoYaml(value: GoJsonValue): string {
  const lines: string[] = [];
  emit(value, "", lines, "");
  return `${lines.join("\n")}\n`;
}
