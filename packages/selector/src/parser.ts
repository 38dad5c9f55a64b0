/**
 * The selector parser: recursive descent over the tokens, one method per grammar rule, each
 * rule in its method's doc comment. The grammar, loosest binding first:
 *
 * ```text
 * Selector   := Or? End
 * Or         := And ("||" And)*
 * And        := Unary ("&&" Unary)*
 * Unary      := "!"* Primary
 * Primary    := "has(" Label ")" | "all()" | "global()" | Comparison | "(" Or ")"
 * Comparison := Label ("==" | "!=" | "contains" | "starts with" | "ends with") String
 *             | Label ("in" | "not in") Set
 * Set        := "{" (String ("," String)* ","?)? "}"
 * ```
 *
 * Error messages are Calico's text; the position is that of the token where parsing failed.
 */
import { allNode, canonicalSet } from "./ast.js";
import { SelectorParseError } from "./errors.js";
import { resolveLimits } from "./limits.js";
import { type Token, TokenKind, tokenize } from "./tokenizer.js";
import type { ParseSelectorOptions, SelectorLimits, SelectorNode } from "./types.js";

/** Parses selector text into a canonical AST. Throws `SelectorParseError`. */
export function parseSelectorNode(text: string, options?: ParseSelectorOptions): SelectorNode {
  if (typeof text !== "string") throw new TypeError("a selector must be a string");
  const limits = resolveLimits(options?.limits);
  if (text.length > limits.maxLength) {
    throw new SelectorParseError(
      `selector too long: ${text.length} characters (limit ${limits.maxLength})`,
      text,
      limits.maxLength,
    );
  }
  return new Parser(text, tokenize(text, limits), limits).parseSelector();
}

class Parser {
  private readonly text: string;
  private readonly tokens: readonly Token[];
  private readonly limits: SelectorLimits;
  private index = 0;
  private depth = 0;

  constructor(text: string, tokens: readonly Token[], limits: SelectorLimits) {
    this.text = text;
    this.tokens = tokens;
    this.limits = limits;
  }

  /**
   * ```text
   * Selector := Or? End
   * ```
   * An empty or blank selector is `all()`.
   */
  parseSelector(): SelectorNode {
    if (this.peek().kind === TokenKind.End) return allNode();
    const node = this.parseOr();
    const rest = this.peek();
    if (rest.kind !== TokenKind.End) throw this.error("unexpected content at end of selector", rest);
    return node;
  }

  /**
   * ```text
   * Or := And ("||" And)*
   * ```
   */
  private parseOr(): SelectorNode {
    const first = this.parseAnd();
    if (this.peek().kind !== TokenKind.Or) return first;
    const operands = [first];
    while (this.peek().kind === TokenKind.Or) {
      this.index++;
      operands.push(this.parseAnd());
    }
    return { kind: "or", operands };
  }

  /**
   * ```text
   * And := Unary ("&&" Unary)*
   * ```
   */
  private parseAnd(): SelectorNode {
    const first = this.parseUnary();
    if (this.peek().kind !== TokenKind.And) return first;
    const operands = [first];
    while (this.peek().kind === TokenKind.And) {
      this.index++;
      operands.push(this.parseUnary());
    }
    return { kind: "and", operands };
  }

  /**
   * ```text
   * Unary := "!"* Primary
   * ```
   * Each `!` counts towards the nesting limit: it adds a level to the AST.
   */
  private parseUnary(): SelectorNode {
    const entryDepth = this.depth;
    let negations = 0;
    while (this.peek().kind === TokenKind.Not) {
      this.enter(this.peek());
      this.index++;
      negations++;
    }
    let node = this.parsePrimary();
    for (let i = 0; i < negations; i++) node = { kind: "not", operand: node };
    this.depth = entryDepth;
    return node;
  }

  /**
   * ```text
   * Primary := "has(" Label ")" | "all()" | "global()" | Comparison | "(" Or ")"
   * ```
   */
  private parsePrimary(): SelectorNode {
    const token = this.peek();
    switch (token.kind) {
      case TokenKind.Has:
        this.index++;
        return { kind: "has", label: token.value };
      case TokenKind.All:
        this.index++;
        return allNode();
      case TokenKind.Global:
        this.index++;
        return { kind: "global" };
      case TokenKind.Label:
        return this.parseComparison();
      case TokenKind.LParen: {
        this.enter(token);
        this.index++;
        const inner = this.parseOr();
        const close = this.peek();
        if (close.kind !== TokenKind.RParen) throw this.error("expected )", close);
        this.index++;
        this.depth--;
        return inner;
      }
      case TokenKind.End:
        throw this.error("unexpected end of string looking for op", token);
      default:
        throw this.error("unexpected token", token);
    }
  }

  /**
   * ```text
   * Comparison := Label ("==" | "!=" | "contains" | "starts with" | "ends with") String
   *             | Label ("in" | "not in") Set
   * ```
   */
  private parseComparison(): SelectorNode {
    const label = this.next().value;
    const operator = this.next();
    switch (operator.kind) {
      case TokenKind.Equal:
        return { kind: "equal", label, value: this.parseString() };
      case TokenKind.NotEqual:
        return { kind: "notEqual", label, value: this.parseString() };
      case TokenKind.Contains:
        return { kind: "contains", label, value: this.parseString() };
      case TokenKind.StartsWith:
        return { kind: "startsWith", label, value: this.parseString() };
      case TokenKind.EndsWith:
        return { kind: "endsWith", label, value: this.parseString() };
      case TokenKind.In:
        return { kind: "in", label, values: this.parseSet() };
      case TokenKind.NotIn:
        return { kind: "notIn", label, values: this.parseSet() };
      case TokenKind.End:
        throw this.error("unexpected end of string looking for op", operator);
      default:
        throw this.error(`expected operator after label "${label}"`, operator);
    }
  }

  /**
   * ```text
   * String := '"' chars '"' | "'" chars "'"
   * ```
   */
  private parseString(): string {
    const token = this.peek();
    if (token.kind !== TokenKind.String) throw this.error("expected string", token);
    this.index++;
    return token.value;
  }

  /**
   * ```text
   * Set := "{" (String ("," String)* ","?)? "}"
   * ```
   * Members come back sorted and de-duplicated, as Calico stores them.
   */
  private parseSet(): string[] {
    const open = this.peek();
    if (open.kind !== TokenKind.LBrace) throw this.error("expected set literal", open);
    this.index++;
    const values: string[] = [];
    while (this.peek().kind === TokenKind.String) {
      values.push(this.next().value);
      if (this.peek().kind !== TokenKind.Comma) break;
      this.index++;
    }
    const close = this.peek();
    if (close.kind !== TokenKind.RBrace) throw this.error("expected }", close);
    this.index++;
    return canonicalSet(values);
  }

  private enter(token: Token): void {
    this.depth++;
    if (this.depth > this.limits.maxDepth) {
      throw this.error(`selector nested too deeply (limit ${this.limits.maxDepth})`, token);
    }
  }

  private peek(): Token {
    // The tokenizer always ends the list with End, and no rule consumes End.
    return this.tokens[this.index]!;
  }

  private next(): Token {
    return this.tokens[this.index++]!;
  }

  private error(message: string, token: Token): SelectorParseError {
    return new SelectorParseError(message, this.text, token.start);
  }
}
