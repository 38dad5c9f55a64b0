/**
 * Calico's canonical selector form: `&&`/`||` groups in parentheses with single spaces around the
 * operators, `!` glued to its operand, values double-quoted (single-quoted when they contain `"`),
 * sets as `{"a", "b"}` in canonical order, `startswith` as `starts with`.
 */
import type { SelectorNode } from "./types.js";

/** Prints an AST in Calico's canonical form. */
export function printSelectorNode(node: SelectorNode): string {
  const parts: string[] = [];
  write(node, parts);
  return parts.join("");
}

/** A value in the quotes Calico picks: double, unless the value holds a double quote. */
export function quoteValue(value: string): string {
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

function write(node: SelectorNode, out: string[]): void {
  switch (node.kind) {
    case "all":
      out.push("all()");
      return;
    case "global":
      out.push("global()");
      return;
    case "has":
      out.push("has(", node.label, ")");
      return;
    case "equal":
      out.push(node.label, " == ", quoteValue(node.value));
      return;
    case "notEqual":
      out.push(node.label, " != ", quoteValue(node.value));
      return;
    case "contains":
      out.push(node.label, " contains ", quoteValue(node.value));
      return;
    case "startsWith":
      out.push(node.label, " starts with ", quoteValue(node.value));
      return;
    case "endsWith":
      out.push(node.label, " ends with ", quoteValue(node.value));
      return;
    case "in":
    case "notIn":
      out.push(node.label, node.kind === "in" ? " in {" : " not in {", node.values.map(quoteValue).join(", "), "}");
      return;
    case "not":
      out.push("!");
      write(node.operand, out);
      return;
    case "and":
    case "or": {
      const operator = node.kind === "and" ? " && " : " || ";
      out.push("(");
      node.operands.forEach((operand, i) => {
        if (i > 0) out.push(operator);
        write(operand, out);
      });
      out.push(")");
      return;
    }
  }
}
