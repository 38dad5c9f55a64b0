/**
 * Errors of `@fedview/selector`.
 *
 * A `SelectorParseError` carries Calico's own message text unchanged in `message` (so a
 * calicoq-compatible CLI can print `Invalid selector: "<sel>". <message>.`), and adds where the
 * problem is: `position`, a 0-based offset in UTF-16 code units into `selector`.
 */

/** Options accepted by the selector errors. */
export interface SelectorErrorOptions {
  /** The underlying failure, when there is one. */
  cause?: unknown;
}

/** Selector text that Calico would reject, or that exceeds fedview's input limits. */
export class SelectorParseError extends Error {
  override readonly name = "SelectorParseError";
  /** 0-based offset (UTF-16 code units) of the offending character or token in `selector`. */
  readonly position: number;
  /** The selector text as given. */
  readonly selector: string;

  constructor(message: string, selector: string, position: number, options?: SelectorErrorOptions) {
    super(message, options);
    this.selector = selector;
    this.position = position;
  }

  /** Two lines for a terminal: the selector (or a window of it) and a caret under `position`. */
  get excerpt(): string {
    return caretExcerpt(this.selector, this.position);
  }
}

/** A selector AST (hand-built or rewritten) that cannot be printed as a valid Calico selector. */
export class SelectorBuildError extends Error {
  override readonly name = "SelectorBuildError";
  constructor(message: string, options?: SelectorErrorOptions) {
    super(message, options);
  }
}

/** Options of `formatSelectorError`. */
export interface FormatSelectorErrorOptions {
  /** Widest excerpt shown, in characters; longer selectors show a window around the position. Default 80. */
  readonly width?: number;
}

/**
 * Formats a parse error for a terminal, on three lines: the selector, a caret under the error
 * position, then the message.
 *
 * ```text
 * foo == "bar" &
 *              ^
 * expected &&
 * ```
 */
export function formatSelectorError(err: SelectorParseError, options?: FormatSelectorErrorOptions): string {
  return `${caretExcerpt(err.selector, err.position, options?.width)}\n${err.message}`;
}

const DEFAULT_EXCERPT_WIDTH = 80;

/** The selector (or a window of it) and, below, a caret under `position`. */
function caretExcerpt(text: string, position: number, width = DEFAULT_EXCERPT_WIDTH): string {
  const at = Math.max(0, Math.min(position, text.length));
  const span = Math.max(10, Math.floor(width));
  let start = 0;
  let end = text.length;
  if (text.length > span) {
    start = Math.max(0, at - Math.floor(span / 2));
    end = Math.min(text.length, start + span);
    start = Math.max(0, end - span);
  }
  const lead = start > 0 ? "…" : "";
  const tail = end < text.length ? "…" : "";
  const shown = `${lead}${display(text.slice(start, end))}${tail}`;
  // Count code points, not code units, so a caret after an astral character still lines up.
  const column = [...lead, ...display(text.slice(start, at))].length;
  return `${shown}\n${" ".repeat(column)}^`;
}

/** Makes every character take one column: tabs become spaces, line breaks and controls visible marks. */
function display(text: string): string {
  let out = "";
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (code === 0x09) out += " ";
    else if (code === 0x0a || code === 0x0d) out += "↵";
    else if (code < 0x20 || code === 0x7f) out += "·";
    else out += ch;
  }
  return out;
}
