import type { ResourceDefinition } from "./registry.js";
import { badRequest, KubeStatusError } from "./status.js";
import type { KubeObject } from "./types.js";

/**
 * Kubernetes label and field selectors, parsed the way apimachinery's `labels.Parse` and
 * `fields.ParseSelector` do. A parse failure is a 400 BadRequest, as from the real server.
 */

type LabelOperator = "exists" | "!" | "=" | "!=" | "in" | "notin" | ">" | "<";

interface LabelRequirement {
  key: string;
  op: LabelOperator;
  values: string[];
}

/** Decides whether an object's labels satisfy a selector. */
export type ObjectPredicate = (object: KubeObject) => boolean;

const SPECIAL = new Set(["!", "=", ",", "(", ")", "<", ">"]);
const LABEL_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function tokenize(input: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (SPECIAL.has(c)) {
      // Two-character operators first, as the real lexer does.
      const two = input.slice(i, i + 2);
      if (two === "==" || two === "!=") {
        tokens.push(two);
        i += 2;
      } else {
        tokens.push(c);
        i++;
      }
    } else {
      let j = i;
      while (j < input.length && !SPECIAL.has(input[j]!) && !/\s/.test(input[j]!)) j++;
      tokens.push(input.slice(i, j));
      i = j;
    }
  }
  return tokens;
}

function selectorError(selector: string, detail: string): KubeStatusError {
  return new KubeStatusError(badRequest(`unable to parse requirement: ${detail} (selector "${selector}")`));
}

/** Parses a label selector such as `app=web,tier in (a,b),!legacy`; an empty string selects everything. */
export function parseLabelSelector(selector: string): LabelRequirement[] {
  const tokens = tokenize(selector);
  const requirements: LabelRequirement[] = [];
  let pos = 0;
  const peek = (): string | undefined => tokens[pos];
  const next = (): string | undefined => tokens[pos++];
  const identifier = (what: string): string => {
    const t = next();
    if (t === undefined || SPECIAL.has(t) || t === "==" || t === "!=") {
      throw selectorError(selector, `found '${t ?? "end of string"}', expected: ${what}`);
    }
    return t;
  };
  const checkKey = (key: string): string => {
    if (key.length > 317 || !LABEL_NAME.test(key)) throw selectorError(selector, `invalid label key "${key}"`);
    return key;
  };
  const checkValue = (value: string): string => {
    if (value.length > 63 || !LABEL_VALUE.test(value)) throw selectorError(selector, `invalid label value "${value}"`);
    return value;
  };

  while (pos < tokens.length) {
    if (peek() === "!") {
      next();
      requirements.push({ key: checkKey(identifier("identifier")), op: "!", values: [] });
    } else {
      const key = checkKey(identifier("identifier"));
      const op = peek();
      if (op === undefined || op === ",") {
        requirements.push({ key, op: "exists", values: [] });
      } else if (op === "=" || op === "==" || op === "!=") {
        next();
        // `a=` selects an empty value: the value token is then absent.
        const value = peek() === undefined || peek() === "," ? "" : identifier("identifier");
        requirements.push({ key, op: op === "!=" ? "!=" : "=", values: [checkValue(value)] });
      } else if (op === ">" || op === "<") {
        next();
        const value = identifier("integer");
        if (!/^-?\d+$/.test(value)) throw selectorError(selector, `for '${op}' operator, the value must be an integer`);
        requirements.push({ key, op, values: [value] });
      } else if (op === "in" || op === "notin") {
        next();
        if (next() !== "(") throw selectorError(selector, "expected '(' after set operator");
        const values: string[] = [];
        while (peek() !== ")") {
          if (peek() === undefined) throw selectorError(selector, "found end of string, expected: ')'");
          values.push(checkValue(peek() === "," ? "" : identifier("value")));
          if (peek() === ",") next();
        }
        next();
        requirements.push({ key, op, values });
      } else {
        throw selectorError(selector, `found '${op}', expected: in, notin, =, ==, !=, gt, lt`);
      }
    }
    const sep = next();
    if (sep !== undefined && sep !== ",") throw selectorError(selector, `found '${sep}', expected: ','`);
  }
  return requirements;
}

function labelsMatch(requirements: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return requirements.every(({ key, op, values }) => {
    const has = Object.hasOwn(l, key);
    const value = l[key];
    switch (op) {
      case "exists":
        return has;
      case "!":
        return !has;
      case "=":
      case "in":
        return has && values.includes(value!);
      case "!=":
      case "notin":
        return !has || !values.includes(value!);
      case ">":
      case "<": {
        if (!has || !/^-?\d+$/.test(value!)) return false;
        const n = Number(value);
        const bound = Number(values[0]);
        return op === ">" ? n > bound : n < bound;
      }
    }
    return false;
  });
}

interface FieldRequirement {
  field: string;
  negate: boolean;
  value: string;
}

function splitUnescaped(input: string, separator: string): string[] {
  const parts: string[] = [];
  let current = "";
  for (let i = 0; i < input.length; i++) {
    const c = input[i]!;
    if (c === "\\" && i + 1 < input.length) {
      current += c + input[i + 1];
      i++;
    } else if (c === separator) {
      parts.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts;
}

function unescapeFieldValue(value: string): string {
  return value.replace(/\\(.)/g, "$1");
}

/** Parses a field selector such as `metadata.name=a,spec.nodeName!=n1`; an empty string selects everything. */
export function parseFieldSelector(selector: string): FieldRequirement[] {
  if (selector.trim() === "") return [];
  return splitUnescaped(selector, ",").map((term) => {
    for (const [op, negate] of [
      ["!=", true],
      ["==", false],
      ["=", false],
    ] as const) {
      const at = term.indexOf(op);
      if (at > 0) {
        return { field: term.slice(0, at).trim(), negate, value: unescapeFieldValue(term.slice(at + op.length)) };
      }
    }
    throw new KubeStatusError(badRequest(`invalid selector: '${selector}'; can't understand '${term}'`));
  });
}

const BOOLEAN_FIELDS = new Set(["spec.hostNetwork", "spec.unschedulable"]);

function fieldValue(object: KubeObject, path: string): string {
  let current: unknown = object;
  for (const part of path.split(".")) {
    if (current === null || typeof current !== "object") {
      current = undefined;
      break;
    }
    current = (current as Record<string, unknown>)[part];
  }
  if (current === undefined || current === null) return BOOLEAN_FIELDS.has(path) ? "false" : "";
  return typeof current === "string" ? current : JSON.stringify(current);
}

function checkFields(def: ResourceDefinition, requirements: FieldRequirement[]): void {
  for (const { field } of requirements) {
    if (field === "metadata.name" || field === "metadata.namespace" || def.selectableFields.includes(field)) continue;
    // The two texts the real server uses: typed kinds have a conversion func, custom resources a field list.
    const message = def.builtin
      ? `field label not supported: ${field}`
      : `"${field}" is not a known field selector: only "metadata.name", "metadata.namespace"`;
    throw new KubeStatusError(badRequest(message));
  }
}

/** Selectors of a list or watch request, compiled into one predicate. */
export function compileSelectors(
  def: ResourceDefinition,
  labelSelector: string | undefined,
  fieldSelector: string | undefined,
): { predicate: ObjectPredicate; empty: boolean } {
  const labels = parseLabelSelector(labelSelector ?? "");
  const fields = parseFieldSelector(fieldSelector ?? "");
  checkFields(def, fields);
  const predicate: ObjectPredicate = (object) =>
    labelsMatch(labels, object.metadata.labels) &&
    fields.every(({ field, negate, value }) => (fieldValue(object, field) === value) !== negate);
  return { predicate, empty: labels.length === 0 && fields.length === 0 };
}
