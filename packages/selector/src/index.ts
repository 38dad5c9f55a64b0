/**
 * `@fedview/selector`: Calico's label selector language — parse, print, evaluate, restrict,
 * rewrite — and a label index with profile inheritance for the query service. No I/O.
 */

export {
  allNode,
  andNode,
  compareCodePoints,
  containsNode,
  endsWithNode,
  equalNode,
  globalNode,
  hasNode,
  inNode,
  MAX_AST_DEPTH,
  mapSelectorNode,
  notEqualNode,
  notInNode,
  notNode,
  orNode,
  SelectorNodeKind,
  startsWithNode,
} from "./ast.js";
export type { FormatSelectorErrorOptions, SelectorErrorOptions } from "./errors.js";
export { formatSelectorError, SelectorBuildError, SelectorParseError } from "./errors.js";
export { LabelIndex, WatchEventKind } from "./label-index.js";
export { MAX_LABEL_LENGTH, SELECTOR_LIMITS } from "./limits.js";
export { printSelectorNode } from "./print.js";
export {
  andSelectors,
  mapSelector,
  NAMESPACE_LABEL,
  NAMESPACE_LABEL_PREFIX,
  namespaceSelectorToEndpointSelector,
  orSelectors,
  prefixSelectorLabels,
  SERVICE_ACCOUNT_LABEL,
  SERVICE_ACCOUNT_LABEL_PREFIX,
  serviceAccountNamesToEndpointSelector,
  serviceAccountSelectorToEndpointSelector,
} from "./rewrite.js";
export { isSelector, parseSelector, selectorFromNode, toSelector, validateSelector } from "./selector.js";
export { isValidLabelKey } from "./tokenizer.js";
export type {
  AllNode,
  AndNode,
  ContainsNode,
  EndsWithNode,
  EqualNode,
  GlobalNode,
  HasNode,
  InNode,
  LabelIndexQueryOptions,
  LabelIndexStats,
  LabelIndexWatch,
  LabelIndexWatchCallback,
  LabelIndexWatchEvent,
  LabelNode,
  LabelRestriction,
  Labels,
  NotEqualNode,
  NotInNode,
  NotNode,
  OrNode,
  ParseSelectorOptions,
  Selector,
  SelectorInput,
  SelectorLimits,
  SelectorNode,
  SelectorNodeKindName,
  SelectorRestrictions,
  StartsWithNode,
} from "./types.js";
