import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isPlainResourceEvent } from "../src/codecs.js";
import {
  DecodeError,
  decodeResourceEvent,
  encodeResourceEvent,
  resourceEventSchema,
  resourceSubject,
} from "../src/index.js";
import { wepDelete, wepUpsert } from "./fixtures.js";

/** Values a field may take: the valid ones and every kind of wrong one. */
const anyValue = fc.oneof(
  fc.constantFrom(undefined, null, 0, -1, 1, 1.5, Number.MAX_SAFE_INTEGER + 2, "", "x", true, [], {}),
  fc.string({ maxLength: 8 }),
);

const field = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary: valid }, { weight: 1, arbitrary: anyValue });

/** Envelopes close to valid ones, with any field possibly wrong, missing or extra. */
const envelope = fc
  .record(
    {
      v: field(fc.constant(1)),
      op: field(fc.constantFrom("upsert", "delete")),
      cluster: field(fc.constantFrom("east", "_local", "c-1", "East", "-x")),
      kind: field(fc.constantFrom("WorkloadEndpoint", "Profile", "workloadEndpoint")),
      id: field(fc.constantFrom("ns/pod-1", "a.b", "p")),
      revision: field(fc.constantFrom("1", "42", "x".repeat(257))),
      generation: field(fc.constantFrom(0, 1, 7)),
      resource: field(
        fc.record(
          {
            apiVersion: field(fc.constantFrom("projectcalico.org/v3", "")),
            kind: field(fc.constantFrom("WorkloadEndpoint", "Profile")),
            metadata: field(
              fc.record(
                { name: field(fc.constantFrom("n", "")), namespace: field(fc.constantFrom("ns", "")) },
                { requiredKeys: [] },
              ),
            ),
            spec: fc.constant({ node: "n1" }),
          },
          { requiredKeys: [] },
        ),
      ),
      extra: anyValue,
    },
    { requiredKeys: [] },
  )
  .map((e) => JSON.parse(JSON.stringify(e)) as unknown);

describe("the resource event fast path", () => {
  it("accepts only envelopes the schema accepts, and returns them as the schema would", () => {
    fc.assert(
      fc.property(envelope, (raw) => {
        if (!isPlainResourceEvent(raw)) return;
        const parsed = resourceEventSchema.safeParse(raw);
        expect(parsed.success).toBe(true);
        expect(parsed.data).toEqual(raw);
      }),
      { numRuns: 5000 },
    );
  });

  it("takes the ordinary upserts and deletes a connector sends", () => {
    expect(isPlainResourceEvent(wepUpsert("east", "ns/pod-1"))).toBe(true);
    expect(isPlainResourceEvent(wepDelete("east", "ns/pod-1"))).toBe(true);
  });

  it("decodes exactly what the schema decodes, for any envelope, and refuses the same ones", () => {
    fc.assert(
      fc.property(envelope, (raw) => {
        const data = new TextEncoder().encode(JSON.stringify(raw));
        const parsed = resourceEventSchema.safeParse(raw);
        if (!parsed.success) {
          expect(() => decodeResourceEvent(data)).toThrow(DecodeError);
          return;
        }
        expect(decodeResourceEvent(data)).toEqual(parsed.data);
        expect(JSON.parse(new TextDecoder().decode(encodeResourceEvent(parsed.data)))).toEqual(parsed.data);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ["ns/pod-1", "fedview.v1.res.east.WorkloadEndpoint.ns/pod--1"],
    ["ns/pod.1", "fedview.v1.res.west.WorkloadEndpoint.ns/pod=2E1"],
  ])("still checks the envelope against its subject (%s)", (id, wrongSubject) => {
    const event = wepUpsert("east", id);
    const data = encodeResourceEvent(event);
    expect(decodeResourceEvent(data, resourceSubject("east", "WorkloadEndpoint", id))).toEqual(event);
    expect(() => decodeResourceEvent(data, wrongSubject)).toThrow(DecodeError);
    expect(() => decodeResourceEvent(data, "fedview.v1.status.east")).toThrow(/not a resource subject/);
  });
});
