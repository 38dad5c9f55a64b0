import type { SelectorLimits } from "./types.js";

/** Longest label key Calico accepts. */
export const MAX_LABEL_LENGTH = 512;

/**
 * Default caps on selector input. Calico has none; these sit far above any real policy (a
 * Kubernetes object is at most ~1.5 MB, a realistic selector a few hundred bytes) while bounding
 * the work, memory and stack depth that hostile text can cost.
 */
export const SELECTOR_LIMITS: SelectorLimits = Object.freeze({
  maxLength: 256 * 1024,
  maxTokens: 64 * 1024,
  maxDepth: 256,
});

/** The default limits with the caller's overrides applied. */
export function resolveLimits(overrides: Partial<SelectorLimits> | undefined): SelectorLimits {
  if (overrides === undefined) return SELECTOR_LIMITS;
  return {
    maxLength: overrides.maxLength ?? SELECTOR_LIMITS.maxLength,
    maxTokens: overrides.maxTokens ?? SELECTOR_LIMITS.maxTokens,
    maxDepth: overrides.maxDepth ?? SELECTOR_LIMITS.maxDepth,
  };
}
