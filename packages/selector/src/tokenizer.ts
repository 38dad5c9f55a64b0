/**
 * The selector tokenizer. Like Calico's, it reads the whole input before the parser runs, so
 * a lexical error anywhere wins over a grammar error earlier in the text, and it is contextual:
 * operator keywords (`contains`, `starts with`, `in`, …) are recognised only right after a label,
 * which is why a label may itself be named `in` or `has`.
 *
 * Hand-written scanning over character codes: no regular expressions, one pass, linear time.
 */

import { SelectorParseError } from "./errors.js";
import { internString } from "./intern-string.js";
import { MAX_LABEL_LENGTH } from "./limits.js";
import type { SelectorLimits } from "./types.js";

/** Token kinds. Internal to the package. */
export const TokenKind = {
  Label: 0,
  String: 1,
  LParen: 2,
  RParen: 3,
  LBrace: 4,
  RBrace: 5,
  Comma: 6,
  Equal: 7,
  NotEqual: 8,
  Not: 9,
  And: 10,
  Or: 11,
  In: 12,
  NotIn: 13,
  Contains: 14,
  StartsWith: 15,
  EndsWith: 16,
  Has: 17,
  All: 18,
  Global: 19,
  End: 20,
} as const;

/** A token kind. */
export type TokenKind = (typeof TokenKind)[keyof typeof TokenKind];

/** One token: its kind, where it is, and for labels, strings and `has(…)` the text it carries. */
export interface Token {
  readonly kind: TokenKind;
  /** Offset of the token's first character. */
  readonly start: number;
  /** Offset just past the token. */
  readonly end: number;
  /** The label name (Label, Has) or the string's content (String); empty otherwise. */
  readonly value: string;
}

/** Operator keywords in the order they are tried: `not in` before `in`, as one word or two. */
const OPERATOR_KEYWORDS: readonly (readonly [TokenKind, string, string | undefined])[] = [
  [TokenKind.Contains, "contains", undefined],
  [TokenKind.StartsWith, "starts", "with"],
  [TokenKind.EndsWith, "ends", "with"],
  [TokenKind.NotIn, "not", "in"],
  [TokenKind.In, "in", undefined],
];

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;

/** `[A-Za-z0-9_./-]`: the characters of a label key. */
export function isLabelChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || // a-z
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x30 && code <= 0x39) || // 0-9
    code === 0x5f || // _
    code === 0x2e || // .
    code === 0x2f || // /
    code === 0x2d // -
  );
}

/** `[A-Za-z0-9_]`: Go's `\w`, which decides where a keyword's word boundary is. */
function isWordChar(code: number): boolean {
  return (
    (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) || code === 0x5f
  );
}

/** True if `key` is a label key Calico accepts: 1–512 characters of `[A-Za-z0-9_./-]`. */
export function isValidLabelKey(key: string): boolean {
  if (key.length === 0 || key.length > MAX_LABEL_LENGTH) return false;
  for (let i = 0; i < key.length; i++) {
    if (!isLabelChar(key.charCodeAt(i))) return false;
  }
  return true;
}

/** Splits selector text into tokens, ending with an `End` token at `text.length`. */
export function tokenize(text: string, limits: SelectorLimits): Token[] {
  return new Tokenizer(text, limits).run();
}

class Tokenizer {
  private readonly text: string;
  private readonly limits: SelectorLimits;
  private readonly tokens: Token[] = [];

  constructor(text: string, limits: SelectorLimits) {
    this.text = text;
    this.limits = limits;
  }

  run(): Token[] {
    const text = this.text;
    const n = text.length;
    let i = 0;
    for (;;) {
      i = this.skipBlanks(i);
      if (i >= n) {
        this.tokens.push({ kind: TokenKind.End, start: n, end: n, value: "" });
        return this.tokens;
      }
      const code = text.charCodeAt(i);
      switch (code) {
        case 0x28: // (
          i = this.push(TokenKind.LParen, i, i + 1);
          break;
        case 0x29: // )
          i = this.push(TokenKind.RParen, i, i + 1);
          break;
        case 0x7b: // {
          i = this.push(TokenKind.LBrace, i, i + 1);
          break;
        case 0x7d: // }
          i = this.push(TokenKind.RBrace, i, i + 1);
          break;
        case 0x2c: // ,
          i = this.push(TokenKind.Comma, i, i + 1);
          break;
        case 0x22: // "
        case 0x27: // '
          i = this.readString(i, code);
          break;
        case 0x3d: // =
          if (text.charCodeAt(i + 1) !== 0x3d) throw this.error("expected ==", i);
          i = this.push(TokenKind.Equal, i, i + 2);
          break;
        case 0x21: // !
          i =
            text.charCodeAt(i + 1) === 0x3d
              ? this.push(TokenKind.NotEqual, i, i + 2)
              : this.push(TokenKind.Not, i, i + 1);
          break;
        case 0x26: // &
          if (text.charCodeAt(i + 1) !== 0x26) throw this.error("expected &&", i);
          i = this.push(TokenKind.And, i, i + 2);
          break;
        case 0x7c: // |
          if (text.charCodeAt(i + 1) !== 0x7c) throw this.error("expected ||", i);
          i = this.push(TokenKind.Or, i, i + 2);
          break;
        default: {
          const last = this.tokens[this.tokens.length - 1];
          i = last?.kind === TokenKind.Label ? this.readOperator(i, last) : this.readWord(i);
        }
      }
    }
  }

  /** Right after a label only an operator keyword may follow: `contains`, `starts with`, `not in`, … */
  private readOperator(start: number, label: Token): number {
    for (const [kind, first, second] of OPERATOR_KEYWORDS) {
      const end = second === undefined ? this.keyword(start, first) : this.twoWordKeyword(start, first, second);
      if (end >= 0) return this.push(kind, start, end);
    }
    throw this.error(`expected operator after label "${label.value}"`, start);
  }

  /** `has(label)`, `all()`, `global()` or a label. */
  private readWord(start: number): number {
    const text = this.text;
    let end = start;
    while (end < text.length && isLabelChar(text.charCodeAt(end))) end++;
    if (end === start) throw this.error("unexpected token", start);
    // No blank is allowed between the function name and "(": "has (a)" is the label "has".
    if (text.charCodeAt(end) === 0x28) {
      const word = text.slice(start, end);
      if (word === "has") return this.readHas(start, end + 1);
      if (word === "all" || word === "global") {
        const close = this.skipBlanks(end + 1);
        // "all(x)" is not all(): like Calico, fall back to the label "all", which the parser rejects.
        if (text.charCodeAt(close) === 0x29) {
          return this.push(word === "all" ? TokenKind.All : TokenKind.Global, start, close + 1);
        }
      }
    }
    if (end - start > MAX_LABEL_LENGTH) throw this.error("label too long", start);
    return this.push(TokenKind.Label, start, end, internString(text.slice(start, end)));
  }

  /** `has(` blanks label blanks `)`; `open` is just past the `(`. */
  private readHas(start: number, open: number): number {
    const text = this.text;
    const labelStart = this.skipBlanks(open);
    let labelEnd = labelStart;
    while (labelEnd < text.length && isLabelChar(text.charCodeAt(labelEnd))) labelEnd++;
    if (labelEnd === labelStart) throw this.error("expected identifier", labelStart);
    if (labelEnd - labelStart > MAX_LABEL_LENGTH) throw this.error("label too long", labelStart);
    const close = this.skipBlanks(labelEnd);
    if (text.charCodeAt(close) !== 0x29) throw this.error("no closing ')' after has(", close);
    return this.push(TokenKind.Has, start, close + 1, internString(text.slice(labelStart, labelEnd)));
  }

  /** A quoted string without escapes; it may not span a line break. */
  private readString(start: number, quote: number): number {
    const text = this.text;
    for (let i = start + 1; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === quote) return this.push(TokenKind.String, start, i + 1, text.slice(start + 1, i));
      if (code === LF || code === CR) break;
    }
    throw this.error("unterminated string", start);
  }

  /** End of `word` at `start` if it is there and followed by a word boundary, else -1. */
  private keyword(start: number, word: string): number {
    if (!this.text.startsWith(word, start)) return -1;
    const end = start + word.length;
    return this.boundaryAt(end) ? end : -1;
  }

  /** End of `first` blanks `second` (blanks optional: `startswith`, `notin`) followed by a word boundary, else -1. */
  private twoWordKeyword(start: number, first: string, second: string): number {
    if (!this.text.startsWith(first, start)) return -1;
    const next = this.skipBlanks(start + first.length);
    return this.keyword(next, second);
  }

  private boundaryAt(offset: number): boolean {
    return offset >= this.text.length || !isWordChar(this.text.charCodeAt(offset));
  }

  /** Whitespace is space and tab only; a line break is an error wherever it appears. */
  private skipBlanks(offset: number): number {
    const text = this.text;
    let i = offset;
    while (i < text.length) {
      const code = text.charCodeAt(i);
      if (code !== SPACE && code !== TAB) break;
      i++;
    }
    return i;
  }

  private push(kind: TokenKind, start: number, end: number, value = ""): number {
    if (this.tokens.length >= this.limits.maxTokens) {
      throw this.error(`selector has too many tokens (limit ${this.limits.maxTokens})`, start);
    }
    this.tokens.push({ kind, start, end, value });
    return end;
  }

  private error(message: string, position: number): SelectorParseError {
    return new SelectorParseError(message, this.text, position);
  }
}
