/**
 * Fuzzing every bus message decoder: resource events, cluster statuses, connection configs, leases,
 * subject tokens and keys, sealed secrets. Each either returns a valid value (one its encoder takes
 * back unchanged) or throws its own typed error, never anything else.
 */
import {
  createSealingKeyPair,
  DecodeError,
  decodeClusterStatus,
  decodeConnectionConfig,
  decodeLeaseRecord,
  decodeResourceEvent,
  decodeSubjectToken,
  EncodeError,
  encodeClusterStatus,
  encodeConnectionConfig,
  encodeLeaseRecord,
  encodeResourceEvent,
  encodeSubjectToken,
  MAX_MESSAGE_BYTES,
  openSecrets,
  parseConnectionKey,
  parseResourceSubject,
  parseStatusSubject,
  SealingError,
  SubjectError,
  sealSecrets,
} from "@fedview/bus";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { malformedDocument, messageBytes } from "../lib/arbitraries.js";
import { VALID_CONNECTION_CONFIGS, VALID_LEASES, VALID_RESOURCE_EVENTS, VALID_STATUSES } from "../lib/documents.js";
import { FIGURES, fuzzTimeout } from "../lib/figures.js";

const runs = { numRuns: FIGURES.fuzzInputs, endOnFailure: true } as const;

/**
 * Runs `decode`; a DecodeError passes, a value passes if `encode` takes it and decoding that gives it
 * back; anything else fails the property with what was thrown.
 */
function decodesOrRefuses<T>(decode: () => T, encode: (value: T) => Uint8Array, again: (bytes: Uint8Array) => T) {
  let value: T;
  try {
    value = decode();
  } catch (err) {
    if (err instanceof DecodeError) {
      outcomes.refused++;
      return err.message.length > 0;
    }
    throw err;
  }
  outcomes.accepted++;
  expect(again(encode(value))).toEqual(value);
  return true;
}

/** How a target's inputs fared; a fuzz run that never reaches one side of a decoder proves little. */
const outcomes = { accepted: 0, refused: 0 };

function expectBothOutcomes(): void {
  expect(outcomes.accepted).toBeGreaterThan(0);
  expect(outcomes.refused).toBeGreaterThan(0);
  outcomes.accepted = 0;
  outcomes.refused = 0;
}

// Subjects: the one the envelope claims, a neighbour, or garbage.
const subject = fc.oneof(
  fc.constantFrom(
    "fedview.v1.res.east.WorkloadEndpoint.prod/node1-k8s-web--1-eth0",
    "fedview.v1.res._local.Profile.kns=2Eprod",
    "fedview.v1.res.east.WorkloadEndpoint.prod=2Fx",
    "fedview.v1.status.east",
    "fedview.v1.status._local",
  ),
  fc.string({ maxLength: 60 }),
);

describe("bus decoder fuzz", { timeout: fuzzTimeout() }, () => {
  it(`resource events: ${FIGURES.fuzzInputs} malformed messages are decoded or refused with DecodeError`, () => {
    fc.assert(
      fc.property(messageBytes(VALID_RESOURCE_EVENTS), fc.option(subject), (bytes, subj) =>
        decodesOrRefuses(
          () => decodeResourceEvent(bytes, subj ?? undefined),
          encodeResourceEvent,
          (b) => decodeResourceEvent(b),
        ),
      ),
      runs,
    );
    expectBothOutcomes();
  });

  it(`cluster statuses: ${FIGURES.fuzzInputs} malformed messages are decoded or refused with DecodeError`, () => {
    fc.assert(
      fc.property(messageBytes(VALID_STATUSES), fc.option(subject), (bytes, subj) =>
        decodesOrRefuses(
          () => decodeClusterStatus(bytes, subj ?? undefined),
          encodeClusterStatus,
          (b) => decodeClusterStatus(b),
        ),
      ),
      runs,
    );
    expectBothOutcomes();
  });

  it(`connection configs: ${FIGURES.fuzzInputs} malformed messages are decoded or refused with DecodeError`, () => {
    const key = fc.oneof(
      fc.constantFrom("etcdv3.east", "kubernetes.west", "etcdv3.west"),
      fc.string({ maxLength: 20 }),
    );
    fc.assert(
      fc.property(messageBytes(VALID_CONNECTION_CONFIGS), fc.option(key), (bytes, k) =>
        decodesOrRefuses(
          () => decodeConnectionConfig(bytes, k ?? undefined),
          encodeConnectionConfig,
          (b) => decodeConnectionConfig(b),
        ),
      ),
      runs,
    );
    expectBothOutcomes();
  });

  it(`leases: ${FIGURES.fuzzInputs} malformed messages are decoded or refused with DecodeError`, () => {
    fc.assert(
      fc.property(messageBytes(VALID_LEASES), (bytes) =>
        decodesOrRefuses(
          () => decodeLeaseRecord(bytes),
          encodeLeaseRecord,
          (b) => decodeLeaseRecord(b),
        ),
      ),
      runs,
    );
    expectBothOutcomes();
  });

  it("subject tokens: any string round-trips or is refused with SubjectError; any token decodes or is refused", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 40 }), fc.string({ maxLength: 40 }), (value, token) => {
        try {
          expect(decodeSubjectToken(encodeSubjectToken(value))).toBe(value);
        } catch (err) {
          if (!(err instanceof SubjectError)) throw err;
        }
        try {
          const decoded = decodeSubjectToken(token);
          expect(encodeSubjectToken(decoded)).toBe(token);
        } catch (err) {
          if (!(err instanceof SubjectError)) throw err;
        }
        // Parsers never throw: a subject or key is theirs or not.
        parseResourceSubject(token);
        parseStatusSubject(token);
        parseConnectionKey(token);
        return true;
      }),
      runs,
    );
  });

  it("sealed secrets: tampered or malformed boxes are refused with SealingError, never opened", () => {
    const recipient = createSealingKeyPair();
    const sender = createSealingKeyPair();
    const sealed = sealSecrets({ etcdPassword: "pw-4711" }, sender, recipient.getPublicKey());
    fc.assert(
      fc.property(malformedDocument([sealed]), (input) => {
        try {
          const opened = openSecrets(input as typeof sealed, recipient);
          // Only the untouched box opens, and then to exactly what was sealed.
          expect(input).toEqual(sealed);
          expect(opened).toEqual({ etcdPassword: "pw-4711" });
        } catch (err) {
          if (!(err instanceof SealingError)) throw err;
          expect(err.message).not.toContain("pw-4711");
        }
        return true;
      }),
      { ...runs, numRuns: Math.ceil(FIGURES.fuzzInputs / 10) },
    );
  });

  it("refuses to encode a message over the payload limit, saying so", () => {
    const base = VALID_RESOURCE_EVENTS[0] as Parameters<typeof encodeResourceEvent>[0];
    const huge = {
      ...base,
      resource: {
        ...base.resource,
        metadata: { ...base.resource!.metadata, labels: { big: "x".repeat(MAX_MESSAGE_BYTES) } },
      },
    } as Parameters<typeof encodeResourceEvent>[0];
    expect(() => encodeResourceEvent(huge)).toThrow(EncodeError);
    expect(() => encodeResourceEvent(huge)).toThrow(/over the 1048576-byte limit/);
  });
});
